package io.companychat.common.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.OptionalLong;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdsTest {

    @ParameterizedTest
    @ValueSource(strings = { "1", "42", "9223372036854775807" })
    void positiveIntegersAreIds(String text) {
        assertThat(Ids.parse(text)).isEqualTo(OptionalLong.of(Long.parseLong(text)));
    }

    @ParameterizedTest
    @ValueSource(strings = { "", "0", "-1", "+1", "001", "1.0", "1e3", " 1", "1 ", "٣", "9223372036854775808",
            "99999999999999999999999" })
    void anythingElseNamesNothing(String text) {
        assertThat(Ids.parse(text)).as("'%s'", text).isEmpty();
    }

    @org.junit.jupiter.api.Test
    void noTextNamesNothing() {
        assertThat(Ids.parse(null)).isEmpty();
    }
}
