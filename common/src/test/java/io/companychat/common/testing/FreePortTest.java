package io.companychat.common.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** {@link ServiceProcess#freePort()}: a port one test JVM chose is not chosen by another while the first lives. */
class FreePortTest {

    @Test
    void aPortAnotherJvmChoseIsNotReservedUntilThatJvmEnds() throws Exception {
        Process other = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), HoldAPort.class.getName()).redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(other.getInputStream(), StandardCharsets.UTF_8));
            int port = Integer.parseInt(out.readLine().strip());

            assertThat(ServiceProcess.reserve(port)).as("port %d, chosen by the other JVM", port).isFalse();

            other.destroyForcibly();
            assertThat(other.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(ServiceProcess.reserve(port)).as("port %d, its JVM gone", port).isTrue();
        } finally {
            other.destroyForcibly();
        }
    }

    @Test
    void aPortThisJvmChoseIsNotChosenAgain() {
        int port = ServiceProcess.freePort();

        assertThat(ServiceProcess.reserve(port)).isFalse();
    }

    /** The other JVM: chooses a port, says which, and lives until it is killed. */
    public static final class HoldAPort {
        public static void main(String[] args) throws InterruptedException {
            System.out.println(ServiceProcess.freePort());
            System.out.flush();
            Thread.sleep(120_000);
        }
    }
}
