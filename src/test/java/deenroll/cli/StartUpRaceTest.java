package deenroll.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every fresh JVM start reaches the database step without a logging failure.
 * A start-up thread that warmed jOOQ while the main thread set the log level
 * made most starts fail: during SLF4J's initialisation another thread gets a
 * substitute logger, and setting the level on it threw a ClassCastException
 * (exit 1). That thread is gone (jOOQ's static initialisers can also deadlock
 * under concurrent first use); this keeps a second one from coming back
 * unnoticed. The race only shows in a fresh JVM, so this starts several.
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
