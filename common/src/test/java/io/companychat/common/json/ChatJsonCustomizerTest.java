package io.companychat.common.json;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

/** The hand-written timestamp format against {@code DateTimeFormatter}'s, through a configured ObjectMapper. */
class ChatJsonCustomizerTest {

    private final ObjectMapper mapper = configured();

    @Test
    void timestampsAreWrittenAsTheFormatterWritesThem() throws Exception {
        SplittableRandom random = new SplittableRandom(16);
        long first = Instant.parse("0001-01-01T00:00:00Z").getEpochSecond();
        long last = Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();
        for (int i = 0; i < 200_000; i++) {
            assertWrittenAsFormatted(Instant.ofEpochSecond(random.nextLong(first, last + 1), random.nextInt(1_000_000_000)));
        }
        for (String edge : new String[] { "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999999999Z", "2000-02-29T12:00:00Z",
                "2100-02-28T23:59:59.999Z", "2100-03-01T00:00:00Z", "1900-03-01T00:00:00Z", "2024-12-31T23:59:59.001Z",
                "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z" }) {
            assertWrittenAsFormatted(Instant.parse(edge));
        }
    }

    @Test
    void yearsOutsideFourDigitsFallBackToTheFormatter() throws Exception {
        for (Instant outside : new Instant[] { Instant.parse("+10000-01-01T00:00:00Z"), Instant.parse("0000-12-31T23:59:59Z"),
                Instant.parse("-0001-06-01T00:00:00Z"), Instant.parse("+12345-06-01T12:00:00Z") }) {
            assertThat(ChatJsonCustomizer.InstantSerializer.format(outside)).isNull();
            assertWrittenAsFormatted(outside);
        }
    }

    private void assertWrittenAsFormatted(Instant instant) throws Exception {
        assertThat(mapper.writeValueAsString(instant)).as("%s", instant)
                .isEqualTo('"' + ChatJsonCustomizer.TIMESTAMP.format(instant) + '"');
    }

    private static ObjectMapper configured() {
        ObjectMapper mapper = new ObjectMapper();
        new ChatJsonCustomizer().customize(mapper);
        return mapper;
    }
}
