package deenroll.cli;

import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A run that ends on its own leaves the JVM's other shutdown hooks to finish.
 * The SIGTERM guard used to halt the JVM from its own hook on every exit, so a
 * flight recording the operator asked for (-XX:StartFlightRecording with its
 * dump on exit) was an empty file.
 */
class ShutdownHooksTest {

    @Test
    void aFinishedRunLetsAFlightRecordingBeWrittenOnExit() throws Exception {
        Path recording = Files.createTempFile("deenroll-run-", ".jfr");
        Path output = Files.createTempFile("deenroll-run-", ".log");
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Fixtures f = new Fixtures(db.db().dsl());
            UUID client = f.client("Acme");
            f.leads(client, f.campaign(client, 2), 2, 3);
            ProcessBuilder builder = new ProcessBuilder(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                    "-XX:StartFlightRecording=filename=" + recording,
                    "-cp", System.getProperty("java.class.path"), "deenroll.cli.Main", "run")
                    .redirectErrorStream(true).redirectOutput(output.toFile());
            builder.environment().put("DATABASE_URL", db.jdbcUrl());
            Process p = builder.start();
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the run ended").isTrue();
            assertThat(p.exitValue()).as("exit code; output: %s", Files.readString(output)).isZero();

            List<RecordedEvent> events = RecordingFile.readAllEvents(recording);
            assertThat(events).as("events in the recording dumped on exit").isNotEmpty();
        } finally {
            Files.deleteIfExists(recording);
            Files.deleteIfExists(output);
        }
    }
}
