package deenroll.cli;

import deenroll.support.Cli;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The on-call engineer at 3 a.m. has only `--help`: it must name the commands,
 * the variables the job reads, and what the exit codes mean. No database needed.
 */
class HelpAndVersionTest {

    @Test
    void helpListsCommandsEnvironmentAndExitCodes() {
        Cli.Result r = Cli.run(Map.of(), "--help");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("run", "health-check", "migrate", "demo", "status", "pause", "resume", "explain",
                "generate-completion");
        assertThat(r.out()).contains("DATABASE_URL", "DE_ENROLLMENT_BATCH_SIZE", "DE_ENROLLMENT_MAX_RUNTIME",
                "DE_ENROLLMENT_ALERT_WEBHOOK", "LOG_LEVEL", "PGHOST");
        assertThat(r.out()).containsIgnoringCase("exit codes");
        // the five exit codes of run and the four Nagios states
        assertThat(r.out()).contains("0 done", "1 a client failed", "2 usage", "3 partial", "4 database unreachable")
                .contains("0 OK", "1 WARNING", "2 CRITICAL", "3 UNKNOWN");
        assertThat(r.out()).contains("--all-clients", "--client-id", "--health-check");
    }

    @Test
    void runHelpListsItsExitCodes() {
        Cli.Result r = Cli.run(Map.of(), "run", "--help");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("Exit codes");
        assertThat(r.out().lines().filter(l -> l.trim().matches("[0-4]\\s+.*")).count())
                .as("one line per exit code 0-4 in:%n%s", r.out()).isEqualTo(5);
        assertThat(r.out()).contains("partial").contains("not migrated");
    }

    @Test
    void healthCheckHelpListsNagiosExitCodes() {
        Cli.Result r = Cli.run(Map.of(), "health-check", "--help");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("OK", "WARNING", "CRITICAL", "UNKNOWN", "--stuck-warning", "--max-pause-hours");
        // every measure by the label -w/-c and perfdata use, with its default ranges, and the range syntax
        assertThat(r.out()).contains("-w, --warning=LABEL=RANGE", "-c, --critical=LABEL=RANGE", "-t, --timeout=SECONDS",
                "[@][start:][end]");
        for (deenroll.health.Measure m : deenroll.health.Measure.values()) {
            assertThat(r.out()).containsPattern("(?m)^\\s+" + m.label() + "\\s+");
        }
        assertThat(r.out()).containsPattern("stuck_leads\\s+100\\s+500").containsPattern("success_rate_24h\\s+95:\\s+-");
    }

    @Test
    void statusHelpSaysItSeesEveryHost() {
        Cli.Result r = Cli.run(Map.of(), "status", "--help");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("from any host").contains("ps aux | grep de-enroll");
    }

    @Test
    void explainHelpNamesTheDefinitionAndItsExitCodes() {
        Cli.Result r = Cli.run(Map.of(), "explain", "--help");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("LEAD_ID", "de_enrollment_is_eligible", "--output")
                .contains("1   no lead with this id in this database").contains("2   usage error");
    }

    @Test
    void versionPrintsTheVersionAndTheBuildCommit() {
        Cli.Result r = Cli.run(Map.of(), "--version");

        assertThat(r.exitCode()).isZero();
        // the tests build from a git checkout; a source tarball says "commit unknown"
        assertThat(Lines.of(r.out())).singleElement().asString()
                .matches("deenroll \\d+\\.\\d+\\.\\d+(-SNAPSHOT)? \\(commit [0-9a-f]{7,}\\)");
    }
}
