package deenroll.health;

import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The health rules of the operating procedure (DESIGN §6), end to end through
 * `deenroll health-check`: the run history is put in the state a rule is about,
 * and the exit code (Nagios: 0 OK, 1 WARNING, 2 CRITICAL) and the SOP-style line
 * must say so. Each scenario keeps the other rules green, so the exit code can
 * only come from the rule under test.
 */
@Tag("compat")
class HealthRulesTest {

    private TestDatabase db;
    private Fixtures fixtures;
    private RunHistory runs;
    private UUID acme;
    private UUID acmeCampaign;

    @BeforeEach
    void oneClientWithLeadsInTheirSequence() {
        db = TestPostgres.get().migrated();
        fixtures = new Fixtures(db.db().dsl());
        runs = new RunHistory(db);
        acme = fixtures.client("Acme");
        acmeCampaign = fixtures.campaign(acme, 3);
        fixtures.leads(acme, acmeCampaign, 1, 3);
        fixtures.recount();
    }

    @AfterEach
    void drop() {
        db.close();
    }

    private Cli.Result health(String... options) {
        String[] args = new String[options.length + 1];
        args[0] = "health-check";
        System.arraycopy(options, 0, args, 1, options.length);
        return Cli.run(db, args);
    }

    // ------------------------------------------------------------------ no runs / success

    @Test
    void noRunAtAllIsCritical() {
        Cli.Result r = health();

        assertThat(r.exitCode()).as("stdout: %s%nstderr: %s", r.out(), r.err()).isEqualTo(2);
        assertThat(r.out()).contains("De-enrollment health: CRITICAL");
        assertThat(r.out().lines()).anyMatch(l -> l.startsWith("❌"));
    }

    @Test
    void afterASuccessfulRunEverythingIsOk() {
        fixtures.leads(acme, acmeCampaign, 3, 5);
        assertThat(Cli.run(db, "run").exitCode()).isZero();

        Cli.Result r = health();

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isZero();
        assertThat(r.out()).contains("De-enrollment health: OK")
                .contains("✅ All clients processed successfully in last 24h");
        assertThat(r.out().lines().skip(1)).isNotEmpty().allMatch(l -> l.startsWith("✅"));
    }

    // ------------------------------------------------------------------ hours since success

    @Test
    void clientWhoseLastSuccessIs3HoursOldIsCritical() {
        UUID beta = fixtures.client("Beta");
        runs.finished(beta, "success", "5 minutes", 1); // some client ran recently: only Acme is overdue
        runs.finished(acme, "success", "3 hours", 1);

        Cli.Result r = health();

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isEqualTo(2);
        assertThat(r.out()).contains("❌ Client Acme hasn't run successfully in 3 hours");
        assertThat(r.out()).doesNotContain("Client Beta");
    }

    @Test
    void clientWhoseLastSuccessIs90MinutesOldIsFine() {
        runs.finished(acme, "success", "90 minutes", 1);

        Cli.Result r = health();

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isZero();
    }

    @Test
    void hoursSinceSuccessThresholdIsConfigurable() {
        runs.finished(acme, "success", "90 minutes", 1);

        Cli.Result r = health("--max-hours-since-success", "1");

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isEqualTo(2);
        assertThat(r.out()).contains("Client Acme hasn't run successfully in 1 hour");
    }

    @Test
    void runRowsWithoutFinishDetailsStillGetAVerdict() {
        // a row with only the required columns, as written by hand or left by an abandoned
        // run: no finished_at, no duration, no peak memory. The check must still judge it.
        runs.bare(acme, "success", "3 hours", 1);

        Cli.Result r = health();

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isEqualTo(2);
        assertThat(r.out()).contains("❌ Client Acme hasn't run successfully in 3 hours");
    }

    // ------------------------------------------------------------------ failed runs

    @Test
    void sixFailedRunsInADayIsAWarning() {
        // 114 successes keep the success rate at exactly 95 %: only the failed-runs rule fires
        runs.finished(acme, "success", "10 minutes", 114);
        runs.finished(acme, "failed", "1 hour", 6);

        Cli.Result r = health();

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isEqualTo(1);
        assertThat(r.out()).contains("⚠️ Client Acme has 6 failed runs");
        assertThat(r.out()).doesNotContain("❌");
    }

    @Test
    void fiveFailedRunsInADayIsNotYetAWarning() {
        runs.finished(acme, "success", "10 minutes", 95);
        runs.finished(acme, "failed", "1 hour", 5);

        Cli.Result r = health();

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isZero();
        assertThat(r.out()).doesNotContain("failed runs");
    }

    @Test
    void failedRunsOlderThanADayDoNotCount() {
        runs.finished(acme, "success", "10 minutes", 1);
        runs.finished(acme, "failed", "30 hours", 10);

        Cli.Result r = health();

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isZero();
    }

    // ------------------------------------------------------------------ success rate

    @Test
    void successRateBelow95PercentIsAWarning() {
        runs.finished(acme, "success", "10 minutes", 1);
        runs.finished(acme, "failed", "1 hour", 1);

        Cli.Result r = health();

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isEqualTo(1);
        assertThat(r.out()).contains("⚠️ Success rate in the last 24h is 50.0%").contains("below 95%");
        assertThat(r.out()).doesNotContain("failed runs in the last 24h");
    }

    @Test
    void successRateOfExactly95PercentIsOk() {
        runs.finished(acme, "success", "10 minutes", 19);
        runs.finished(acme, "failed", "1 hour", 1);

        Cli.Result r = health();

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isZero();
        assertThat(r.out()).contains("✅ Success rate in the last 24h is 95.0%");
    }

    // ------------------------------------------------------------------ stuck leads

    @Test
    void hundredStuckLeadsIsStillOk() {
        runs.finished(acme, "success", "5 minutes", 1);
        fixtures.leads(acme, acmeCampaign, 3, 100);

        Cli.Result r = health();

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isZero();
        assertThat(r.out()).contains("✅ 100 stuck lead(s)");
    }

    @Test
    void hundredAndOneStuckLeadsIsAWarning() {
        runs.finished(acme, "success", "5 minutes", 1);
        fixtures.leads(acme, acmeCampaign, 3, 101);

        Cli.Result r = health();

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isEqualTo(1);
        assertThat(r.out()).contains("⚠️ 101 stuck lead(s)");
    }

    @Test
    void fiveHundredAndOneStuckLeadsIsCritical() {
        runs.finished(acme, "success", "5 minutes", 1);
        fixtures.leads(acme, acmeCampaign, 4, 501);

        Cli.Result r = health();

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isEqualTo(2);
        assertThat(r.out()).contains("❌ 501 stuck lead(s)");
    }

    @Test
    void stuckThresholdsAreConfigurable() {
        runs.finished(acme, "success", "5 minutes", 1);
        fixtures.leads(acme, acmeCampaign, 3, 6);

        assertThat(health().exitCode()).as("6 stuck leads are fine by default").isZero();
        Cli.Result warning = health("--stuck-warning", "5");
        Cli.Result critical = health("--stuck-warning", "2", "--stuck-critical", "5");

        assertThat(warning.exitCode()).as("stdout: %s", warning.out()).isEqualTo(1);
        assertThat(warning.out()).contains("⚠️ 6 stuck lead(s)");
        assertThat(critical.exitCode()).as("stdout: %s", critical.out()).isEqualTo(2);
        assertThat(critical.out()).contains("❌ 6 stuck lead(s)");
    }

    @Test
    void recentlyFinishedLeadsAreNotStuckYet() {
        // finished their sequence a minute ago: the next cycle takes them, no alarm
        runs.finished(acme, "success", "5 minutes", 1);
        fixtures.leads(acme, acmeCampaign, 3, 6);
        db.sql("UPDATE leads SET last_message_at = now() - interval '1 minute' WHERE current_message_position = 3");

        Cli.Result r = health("--stuck-warning", "5");

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isZero();
    }

    @Test
    void leadsOfAnInactiveClientAreNotStuck() {
        // scheduled runs skip inactive clients on purpose: their leads waiting is no fault
        runs.finished(acme, "success", "5 minutes", 1);
        UUID dormant = fixtures.client("Dormant", false);
        fixtures.leads(dormant, fixtures.campaign(dormant, 1), 1, 6);

        Cli.Result r = health("--stuck-warning", "5");

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isZero();
    }
}
