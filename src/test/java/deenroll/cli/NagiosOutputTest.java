package deenroll.cli;

import deenroll.health.RunHistory;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * health-check --format nagios: the plugin contract's first line
 * {@code STATUS: text | 'label'=value[UOM];warn;crit;min;max}, the findings
 * after it, and the Nagios exit codes.
 */
class NagiosOutputTest {

    @Test
    void warningStatusLineCarriesPerfdataWithThresholds() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Fixtures f = new Fixtures(db.db().dsl());
            UUID acme = f.client("Acme");
            f.leads(acme, f.campaign(acme, 2), 2, 6);
            f.recount();
            new RunHistory(db).finished(acme, "success", "5 minutes", 1);

            Cli.Result r = Cli.run(db, "health-check", "--format", "nagios", "--stuck-warning", "5");

            assertThat(r.exitCode()).as(r.out()).isEqualTo(1);
            String first = r.out().lines().findFirst().orElseThrow();
            assertThat(first).startsWith("WARNING: 6 stuck lead(s)");
            assertThat(first.substring(first.indexOf(" | ") + 3).split(" ")).contains(
                    "'stuck_leads'=6;5;500;0",
                    "'success_rate_24h'=100%;95:;;0;100",
                    "'failed_runs_24h'=0;5;;0",
                    "'failed_runs_24h_max'=0;5;;0",
                    "'average_run_duration_24h'=2s;240;;0",
                    "'peak_memory_24h'=256MB;2048;;0");
            assertThat(first).containsPattern("'hours_since_success_max'=0\\.\\d+;;2;0")
                    .containsPattern("'hours_since_last_run'=0\\.\\d+;;2;0");
            assertThat(r.out().lines().skip(1)).contains("⚠️ 6 stuck lead(s) (finished their sequence more than 30 min ago, still enrolled), above 5");
        }
    }

    @Test
    void rangesGivenPerMeasureJudgeTheNumbersAndArePrintedAsGiven() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Fixtures f = new Fixtures(db.db().dsl());
            UUID acme = f.client("Acme");
            f.leads(acme, f.campaign(acme, 2), 2, 6);
            f.recount();
            new RunHistory(db).finished(acme, "success", "5 minutes", 3);
            new RunHistory(db).finished(acme, "failed", "5 minutes", 1);

            // 6 stuck leads: inside @5:10 is a WARNING; a 75 % success rate is below the critical 80:
            Cli.Result r = Cli.run(db, "health-check", "--format", "nagios",
                    "-w", "stuck_leads=@5:10", "-c", "stuck_leads=20", "--critical", "success_rate_24h=80:");

            assertThat(r.exitCode()).as(r.out()).isEqualTo(2);
            String first = r.out().lines().findFirst().orElseThrow();
            assertThat(first.substring(first.indexOf(" | ") + 3).split(" ")).contains(
                    "'stuck_leads'=6;@5:10;20;0", "'success_rate_24h'=75%;95:;80:;0;100");
            assertThat(r.out().lines().skip(1)).contains(
                    "⚠️ 6 stuck lead(s) (finished their sequence more than 30 min ago, still enrolled), between 5 and 10",
                    "❌ Success rate in the last 24h is 75.0% (1 of 4 runs failed), below 80%");
        }
    }

    @Test
    void theFailedRunsRuleCarriesItsThresholdForTheWorstClientAndForAllClientsTogether() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Fixtures f = new Fixtures(db.db().dsl());
            UUID acme = f.client("Acme");
            UUID beta = f.client("Beta");
            new RunHistory(db).finished(acme, "success", "5 minutes", 200);
            new RunHistory(db).finished(beta, "success", "5 minutes", 200);
            new RunHistory(db).finished(acme, "failed", "1 hour", 6);
            new RunHistory(db).finished(beta, "failed", "1 hour", 2);

            Cli.Result r = Cli.run(db, "health-check", "--format", "nagios");

            assertThat(r.exitCode()).as(r.out()).isEqualTo(1);
            String first = r.out().lines().findFirst().orElseThrow();
            assertThat(first).startsWith("WARNING: Client Acme (" + acme + ") has 6 failed runs in the last 24h");
            // the rule judges one client's failures (6 > 5) and all clients' together (8 > 5), by the same range
            assertThat(first.substring(first.indexOf(" | ") + 3).split(" "))
                    .contains("'failed_runs_24h_max'=6;5;;0", "'failed_runs_24h'=8;5;;0");
            assertThat(r.out().lines().skip(1)).contains(
                    "⚠️ Client Acme (" + acme + ") has 6 failed runs in the last 24h (this client alone, above 5)"
                            + " — next: deenroll run --client-id=" + acme + " once the error `deenroll report daily` shows is fixed",
                    "⚠️ 8 failed runs in the last 24h across 2 of 2 active client(s) (whole platform, above 5)"
                            + " — next: deenroll report daily (the failed runs, client by client, and their errors)");
            Cli.Result sumAbove = Cli.run(db, "health-check", "--format", "nagios", "-w", "failed_runs_24h_max=6");
            assertThat(sumAbove.exitCode()).as("no client above 6, but 8 in all: %s", sumAbove.out()).isEqualTo(1);
            assertThat(sumAbove.out()).doesNotContain("Client Acme (");
            assertThat(Cli.run(db, "health-check", "--format", "nagios", "-w", "failed_runs_24h_max=8").exitCode())
                    .isZero();
        }
    }

    @Test
    void everyFindingFollowsTheStatusLineAsLongOutput() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Fixtures f = new Fixtures(db.db().dsl());
            UUID acme = f.client("Acme|Pipes");
            f.leads(acme, f.campaign(acme, 2), 2, 6);
            f.recount();
            new RunHistory(db).finished(acme, "failed", "3 hours", 1);

            Cli.Result r = Cli.run(db, "health-check", "--format", "nagios", "--stuck-warning", "5");
            Cli.Result text = Cli.run(db, "health-check", "--stuck-warning", "5");

            assertThat(r.exitCode()).isEqualTo(2);
            var lines = r.out().lines().toList();
            assertThat(lines.get(0)).startsWith("CRITICAL: ").contains(" (+");
            // the long output is the findings, one a line, as the text format prints them after its heading
            assertThat(lines.subList(1, lines.size()))
                    .containsExactlyElementsOf(text.out().lines().skip(1).map(l -> l.replace('|', '/')).toList())
                    .hasSizeGreaterThanOrEqualTo(3)
                    .allSatisfy(l -> assertThat(l).doesNotContain("|"));
            assertThat(lines.get(0).chars().filter(c -> c == '|').count()).as("only the perfdata separator").isOne();
        }
    }

    @Test
    void aCheckThatOutlivesItsTimeoutIsUnknown() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated();
             var blocker = java.sql.DriverManager.getConnection(db.jdbcUrl())) {
            new Fixtures(db.db().dsl()).client("Acme");
            // another session holds the run table: the check's first statement waits behind it
            blocker.setAutoCommit(false);
            blocker.createStatement().execute("LOCK TABLE de_enrollment_runs IN ACCESS EXCLUSIVE MODE");

            // the lock outlasts the check: only the timeout can end it (else the statement timeout, 300 s, says otherwise)
            Cli.Result r = Cli.run(db, "health-check", "--format", "nagios", "-t", "2");

            assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(3);
            assertThat(r.out().lines().findFirst().orElseThrow())
                    .isEqualTo("UNKNOWN: health check did not finish within 2 s (-t/--timeout)");
            blocker.rollback();
        }
    }

    @Test
    void aPauseIsMeasuredInHoursAgainstItsCriticalRange() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            new Fixtures(db.db().dsl()).client("Acme");
            assertThat(Cli.run(db, "run").exitCode()).isZero();
            assertThat(Cli.run(db, "pause", "--reason", "restore").exitCode()).isZero();

            Cli.Result r = Cli.run(db, "health-check", "--format", "nagios", "-c", "paused_hours=@0:");

            assertThat(r.exitCode()).as(r.out()).isEqualTo(2);
            assertThat(r.out().lines().findFirst().orElseThrow()).contains("'paused_hours'=0;;@0:;0")
                    .startsWith("CRITICAL: ⏸ De-enrollment paused for 0 min, at or above 0 h, since ");
        }
    }

    @Test
    void okStatusLine() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Fixtures f = new Fixtures(db.db().dsl());
            f.client("Acme");
            assertThat(Cli.run(db, "run").exitCode()).isZero();

            Cli.Result r = Cli.run(db, "health-check", "--format", "nagios");

            assertThat(r.exitCode()).isZero();
            assertThat(r.out().lines().findFirst().orElseThrow()).startsWith("OK: Last run 0 min ago | 'stuck_leads'=0;100;500;0");
        }
    }

    @Test
    void unreachableDatabaseIsUnknownWithoutPerfdata() {
        Cli.Result r = Cli.run(Map.of("DATABASE_URL", "postgres://u:S3cretPw@127.0.0.1:1/db"), "health-check", "--format", "nagios");

        assertThat(r.exitCode()).isEqualTo(3);
        String first = r.out().lines().findFirst().orElseThrow();
        assertThat(first).startsWith("UNKNOWN: cannot connect to the database").doesNotContain("|").doesNotContain("S3cretPw");
    }

    @Test
    void anUnknownFormatIsUnknownForNagios() {
        Cli.Result r = Cli.run(Map.of(), "health-check", "--format", "xml");

        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.err()).contains("--format");
    }
}
