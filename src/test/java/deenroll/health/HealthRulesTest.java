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
        assertThat(r.out()).contains("❌ Client Acme (" + acme + ") hasn't run successfully in 3 hours"
                + " — next: deenroll run --client-id=" + acme);
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
        assertThat(r.out()).contains("Client Acme (" + acme + ") hasn't run successfully in 1 hour");
    }

    @Test
    void runRowsWithoutFinishDetailsStillGetAVerdict() {
        // a row with only the required columns, as written by hand or left by an abandoned
        // run: no finished_at, no duration, no peak memory. The check must still judge it.
        runs.bare(acme, "success", "3 hours", 1);

        Cli.Result r = health();

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isEqualTo(2);
        assertThat(r.out()).contains("❌ Client Acme (" + acme + ") hasn't run successfully in 3 hours");
    }

    // ------------------------------------------------------------------ failed runs

    @Test
    void sixFailedRunsInADayIsAWarning() {
        // 114 successes keep the success rate at exactly 95 %: only the failed-runs rule fires
        runs.finished(acme, "success", "10 minutes", 114);
        runs.finished(acme, "failed", "1 hour", 6);

        Cli.Result r = health();

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isEqualTo(1);
        assertThat(r.out()).contains("⚠️ Client Acme (" + acme + ") has 6 failed runs in the last 24h (this client alone, above 5)");
        assertThat(r.out()).doesNotContain("❌");
    }

    @Test
    void aFindingAboutAClientNamesItByIdWithTheCommandToRunForIt() {
        // two clients may share a name: only the id tells the operator which one to re-run
        UUID twin = fixtures.client("Acme");
        runs.finished(twin, "success", "10 minutes", 114);
        runs.finished(acme, "success", "10 minutes", 114);
        runs.finished(acme, "failed", "1 hour", 6);

        Cli.Result r = health();

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isEqualTo(1);
        assertThat(r.out().lines().filter(l -> l.contains("has 6 failed runs")).toList()).singleElement().asString()
                .startsWith("⚠️ Client Acme (" + acme + ") has 6 failed runs in the last 24h")
                .endsWith("— next: deenroll run --client-id=" + acme + " once the error `deenroll report daily` shows is fixed")
                .doesNotContain(twin.toString());
    }

    @Test
    void manyClientsEachFailingRarelyIsAPlatformWarningNotAnAllClear() {
        // 2,000 clients, each failing 1 run in 50: no client is over 5 on its own, the success rate is 98 %,
        // and yet 2,000 runs failed. The failed-runs rule applies to the whole platform too.
        runs.finished(acme, "success", "10 minutes", 1);
        db.sql("INSERT INTO clients (id, name, is_active, created_at)"
                + " SELECT md5('client' || c)::uuid, 'Client ' || c, true, now() - interval '30 days' FROM generate_series(1, 2000) c");
        db.sql("INSERT INTO de_enrollment_runs (id, invocation_id, client_id, run_at, run_type, status, budget_ms,"
                + " duration_ms, finished_at, heartbeat_at, peak_memory_mb)"
                + " SELECT md5('run' || c || '-' || n)::uuid, md5('inv' || n)::uuid, md5('client' || c)::uuid,"
                + " now() - n * interval '20 minutes', 'scheduled', CASE WHEN n = 7 THEN 'failed' ELSE 'success' END, 240000,"
                + " 2000, now() - n * interval '20 minutes' + interval '2 seconds', now() - n * interval '20 minutes'"
                + " + interval '2 seconds', 256 FROM generate_series(1, 2000) c, generate_series(0, 49) n");

        Cli.Result r = health();
        Cli.Result daily = Cli.run(db, "report", "daily");

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isEqualTo(1);
        assertThat(r.out()).doesNotContain("All clients processed successfully")
                .contains("⚠️ 2000 failed runs in the last 24h across 2000 of 2001 active client(s) (whole platform, above 5)")
                .contains("✅ Success rate in the last 24h is 98.0%")
                .doesNotContain("has 1 failed runs");
        assertThat(daily.exitCode()).as("report daily agrees: %s", daily.out()).isEqualTo(1);
        assertThat(daily.out()).contains("⚠️ 2000 failed runs in the last 24h across 2000 of 2001 active client(s)");
    }

    @Test
    void failuresWithinTheLimitAreCountedNotCalledAllSuccessful() {
        runs.finished(acme, "success", "10 minutes", 19);
        runs.finished(acme, "failed", "1 hour", 1);

        Cli.Result r = health();

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isZero();
        assertThat(r.out()).doesNotContain("All clients processed successfully")
                .contains("✅ 1 failed run(s) in the last 24h across 1 of 1 active client(s), within the failed-runs limit"
                        + " per client and for the whole platform (above 5 alerts)");
    }

    @Test
    void failedRunsOfSeveralClientsAddUpToAPlatformWarning() {
        UUID beta = fixtures.client("Beta");
        runs.finished(acme, "success", "10 minutes", 100);
        runs.finished(beta, "success", "10 minutes", 100);
        runs.finished(acme, "failed", "1 hour", 3);
        runs.finished(beta, "failed", "1 hour", 3);

        Cli.Result r = health();

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isEqualTo(1);
        assertThat(r.out()).contains("⚠️ 6 failed runs in the last 24h across 2 of 2 active client(s) (whole platform, above 5)")
                .doesNotContain("has 3 failed runs");
    }

    // ------------------------------------------------------------------ leads that could not be de-enrolled

    @Test
    void leadsThatCouldNotBeDeEnrolledAreAWarningNamingTheClientTheCountAndTheMostFrequentError() {
        fixtures.leads(acme, acmeCampaign, 3, 3);
        UUID held = fixtures.lead(acme, acmeCampaign, 3);
        UUID alsoHeld = fixtures.lead(acme, acmeCampaign, 3);
        fixtures.recount();
        db.sql("CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$"
                + " BEGIN RAISE EXCEPTION 'test: the CRM holds this lead'; END $$;"
                + " CREATE TRIGGER test_refuse BEFORE UPDATE ON leads FOR EACH ROW"
                + " WHEN (OLD.id IN ('" + held + "', '" + alsoHeld + "')) EXECUTE FUNCTION test_refuse();");
        Cli.Result run = Cli.run(db, "run");
        assertThat(run.exitCode()).as("3 of 5 de-enrolled: a success, %s", run.out()).isZero();
        assertThat(run.out()).contains("success    Acme (" + acme + "): 3 de-enrolled (booked 0, completed 3, opted_out 0),"
                + " 2 could not be de-enrolled (left enrolled)");

        Cli.Result r = health();
        Cli.Result json = health("--output", "json");

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isEqualTo(1);
        assertThat(r.out()).doesNotContain("All clients processed successfully")
                .contains("⚠️ Client Acme (" + acme + ") has 2 lead(s) that could not be de-enrolled in the last 24h"
                        + " (most frequent error: ")
                .contains("test: the CRM holds this lead")
                .contains("next: `deenroll verify` names the leads that keep failing; fix the cause, then deenroll run --client-id=" + acme);
        assertThat(json.out()).contains("\"rule\" : \"lead_errors\"", "\"clientId\" : \"" + acme + "\"");
    }

    @Test
    void leadsDeEnrolledByALaterRunNoLongerCount() {
        fixtures.leads(acme, acmeCampaign, 3, 2);
        fixtures.recount();
        db.sql("CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$"
                + " BEGIN RAISE EXCEPTION 'test: not now'; END $$;"
                + " CREATE TRIGGER test_refuse BEFORE UPDATE ON leads FOR EACH ROW EXECUTE FUNCTION test_refuse();");
        Cli.run(db, "run");
        db.sql("DROP TRIGGER test_refuse ON leads");
        assertThat(Cli.run(db, "run").exitCode()).isZero();
        runs.finished(acme, "success", "1 minute", 60); // the failed run stays in the rate: keep it above 95 %

        Cli.Result r = health();

        assertThat(r.out()).doesNotContain("could not be de-enrolled");
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
