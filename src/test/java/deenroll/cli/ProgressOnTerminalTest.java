package deenroll.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A run's live progress line, in a real process: on a terminal (a pseudo-terminal
 * from util-linux's {@code script}) it is drawn on stderr; with stderr on a pipe
 * or a file nothing of it is written, and stdout's JSON never carries it.
 */
class ProgressOnTerminalTest {

    private static final String PROGRESS = "left in the budget";

    @Test
    void stderrToAFileGetsNoProgressAndStdoutIsTheJsonAlone() throws Exception {
        try (TestDatabase db = withEligibleLeads()) {
            Path out = Files.createTempFile("deenroll-out-", ".json");
            Path err = Files.createTempFile("deenroll-err-", ".log");
            try {
                Process p = child(db).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
                assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();

                String stderr = Files.readString(err);
                assertThat(p.exitValue()).as(stderr).isZero();
                assertThat(stderr).doesNotContain(PROGRESS).doesNotContain("\r").doesNotContain("\033");
                JsonNode json = new ObjectMapper().readTree(out.toFile());
                assertThat(json.path("totals").path("leadsDeEnrolled").asInt()).as("%s", json).isEqualTo(300);
                assertThat(Files.readString(out)).doesNotContain(PROGRESS).doesNotContain("\033");
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        }
    }

    @Test
    void stderrOnATerminalShowsTheLineAndErasesItWhileStdoutsJsonStaysClean() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")), "util-linux's script gives the pseudo-terminal");
        try (TestDatabase db = withEligibleLeads()) {
            Path out = Files.createTempFile("deenroll-out-", ".json");
            Path typescript = Files.createTempFile("deenroll-tty-", ".log");
            try {
                ProcessBuilder child = child(db);
                String command = String.join(" ", child.command().stream().map(ProgressOnTerminalTest::quoted).toList())
                        + " > " + quoted(out.toString());
                ProcessBuilder script = new ProcessBuilder("/usr/bin/script", "-qec", command, typescript.toString())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
                script.environment().clear();
                script.environment().putAll(child.environment());
                script.environment().put("TERM", "xterm");
                Process p = script.start();
                assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();

                String terminal = Files.readString(typescript);
                assertThat(p.exitValue()).as(terminal).isZero();
                assertThat(terminal).containsPattern("\r\033\\[Kdeenroll: \\d+/1 clients done, [\\d,]+ leads de-enrolled \\([\\d.,]+/s\\), "
                        + "[\\w ]+ left in the budget\033\\[K\r");
                // erased before the process ends: the last thing drawn on the terminal is the erase
                assertThat(terminal.lastIndexOf("\r\033[K")).isGreaterThan(terminal.lastIndexOf(PROGRESS));
                JsonNode json = new ObjectMapper().readTree(out.toFile());
                assertThat(json.path("totals").path("leadsDeEnrolled").asInt()).as("%s", json).isEqualTo(300);
                assertThat(Files.readString(out)).doesNotContain(PROGRESS).doesNotContain("\033");
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(typescript);
            }
        }
    }

    private static TestDatabase withEligibleLeads() {
        TestDatabase db = TestPostgres.get().migrated();
        Fixtures f = new Fixtures(db.db().dsl());
        UUID acme = f.client("Acme");
        f.leads(acme, f.campaign(acme, 2), 2, 300);
        f.recount();
        return db;
    }

    private static ProcessBuilder child(TestDatabase db) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), "deenroll.cli.Main", "run", "--output", "json",
                "--batch-size", "10"));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().clear();
        builder.environment().put("DATABASE_URL", db.jdbcUrl());
        builder.environment().put("LOG_LEVEL", "warn");
        builder.environment().put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        return builder;
    }

    private static String quoted(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
