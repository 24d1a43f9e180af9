package io.companychat.user.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.Test;

/** The wait between attempts to send an outbox mail. */
class OutboxBackoffTest {

    private static final Duration INITIAL = Duration.ofSeconds(1);
    private static final Duration MAX = Duration.ofMinutes(5);

    @Test
    void backoffDoublesAfterEachFailedAttempt() {
        assertThat(OutboxSender.backoff(1, INITIAL, MAX)).isEqualTo(Duration.ofSeconds(1));
        assertThat(OutboxSender.backoff(2, INITIAL, MAX)).isEqualTo(Duration.ofSeconds(2));
        assertThat(OutboxSender.backoff(3, INITIAL, MAX)).isEqualTo(Duration.ofSeconds(4));
        assertThat(OutboxSender.backoff(9, INITIAL, MAX)).isEqualTo(Duration.ofSeconds(256));
    }

    @Test
    void backoffIsCappedAndNeverOverflows() {
        assertThat(OutboxSender.backoff(10, INITIAL, MAX)).isEqualTo(MAX);
        assertThat(OutboxSender.backoff(1_000, INITIAL, MAX)).isEqualTo(MAX);
        assertThat(OutboxSender.backoff(Integer.MAX_VALUE, INITIAL, MAX)).isEqualTo(MAX);
    }
}
