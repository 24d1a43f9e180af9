package io.companychat.chat.socket;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.Test;

/** The pacing of the closes at shutdown (their spread over time is GracefulShutdownIT's, on the real process). */
class SocketSweeperTest {

    private static final Duration SPREAD = SocketSweeper.MOST_SPREAD;

    @Test
    void theRateSetsTheSliceUntilTheSpreadWouldBeTooLong() {
        assertThat(SocketSweeper.perSlice(20, 50, SPREAD)).as("50 a second: 5 every 100 ms").isEqualTo(5);
        assertThat(SocketSweeper.perSlice(20_000, 2_000, SPREAD)).as("20,000 at the deployed rate: 10 s").isEqualTo(200);
        assertThat(SocketSweeper.perSlice(100_000, 2_000, SPREAD)).as("100,000: all within 20 s, not 50").isEqualTo(500);
        assertThat(SocketSweeper.perSlice(3, 5, SPREAD)).as("a rate below 10 a second: 1 a slice").isEqualTo(1);
    }

    @Test
    void aRateOfZeroClosesEveryOneInTheFirstSlice() {
        assertThat(SocketSweeper.perSlice(7, 0, SPREAD)).isEqualTo(7);
        assertThat(SocketSweeper.perSlice(0, 0, SPREAD)).isEqualTo(1);
    }
}
