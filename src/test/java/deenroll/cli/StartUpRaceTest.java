package deenroll.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The start-up thread (Preload) logs through jOOQ while the main thread sets
 * the log level. Logging must be initialised before that thread starts: during
 * SLF4J's initialisation another thread gets a substitute logger, and the
 * level setting failed on it (ClassCastException, exit 1) in 2 of 7 benchmark
 * runs. The race only shows in a fresh JVM, so this starts several.
 */
class StartUpRaceTest {

    private static final int STARTS = 8;

    @Test
    void everyFreshStartReachesTheDatabaseStepWithoutALoggingFailure() throws Exception {
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < STARTS; i++) {
            Path output = Files.createTempFile("deenroll-start-", ".log");
            try {
                Process p = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                        "-cp", System.getProperty("java.class.path"), "deenroll.cli.Main",
                        "run", "--database-url", "postgres://deenroll@127.0.0.1:1/none", "--connect-timeout", "1000")
                        .redirectErrorStream(true).redirectOutput(output.toFile()).start();
                assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("start %d ended", i).isTrue();
                String text = Files.readString(output);
                // 4: the unreachable database, the step after every option and the log level are set
                if (p.exitValue() != 4 || text.contains("cannot be cast")) {
                    failures.add("start " + i + ": exit " + p.exitValue() + ": " + text.strip());
                }
            } finally {
                Files.deleteIfExists(output);
            }
        }
        assertThat(failures).as("starts that failed before reaching the database").isEmpty();
    }
}
