package deenroll.health;

import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link HealthCheck#evaluate()} directly, without the command around it: the
 * command turns any exception into UNKNOWN, which would hide where it came from.
 */
class HealthCheckTest {

    private TestDatabase db;
    private UUID acme;

    @BeforeEach
    void oneClient() {
        db = TestPostgres.get().migrated();
        Fixtures f = new Fixtures(db.db().dsl());
        acme = f.client("Acme");
        f.leads(acme, f.campaign(acme, 2), 2, 3);
        f.recount();
    }

    @AfterEach
    void drop() {
        db.close();
    }

    private HealthReport evaluate() {
        return new HealthCheck(db.db().dsl(), Thresholds.DEFAULTS).evaluate();
    }

    @Test
    void freshDatabaseWithoutAnyRunIsCriticalNotAnError() {
        // the very first health check after `migrate` sees no run at all
        HealthReport report = evaluate();

        assertThat(report.level()).isEqualTo(Level.CRITICAL);
        assertThat(report.problems()).extracting(Finding::rule).contains("no_runs");
    }

    @Test
    void runsWithoutRecordedPeakMemoryAreEvaluated() {
        // abandoned runs are closed without peak memory; a day of them must still be judged
        new RunHistory(db).bare(acme, "failed", "30 minutes", 1);

        HealthReport report = evaluate();

        assertThat(report.level()).isEqualTo(Level.CRITICAL);
        assertThat(report.problems()).extracting(Finding::rule).contains("hours_since_success");
    }

    @Test
    void metricsCarryTheNumbersBehindTheFindings() {
        new RunHistory(db).finished(acme, "success", "5 minutes", 3);
        new RunHistory(db).finished(acme, "failed", "5 minutes", 1);

        HealthReport report = evaluate();

        assertThat(report.metrics()).containsEntry("stuckLeads", 3).containsEntry("activeClients", 1)
                .containsEntry("successRate24hPercent", 75.0).containsEntry("peakMemoryMb24h", 256);
        // the same numbers, typed, for perfdata and Prometheus: no map read back by its keys
        HealthNumbers n = report.numbers().orElseThrow();
        assertThat(n.stuckLeads()).isEqualTo(3);
        assertThat(n.failedRuns()).isOne();
        assertThat(n.successRatePercent()).hasValue(75.0);
        assertThat(n.peakMemoryMb()).hasValue(256);
        assertThat(HealthReport.unmeasured(new Finding(Level.UNKNOWN, "database", "down")).metrics()).isEmpty();
        assertThat(report.level()).isEqualTo(Level.WARNING);
        assertThat(report.findings()).extracting(Finding::line)
                .contains("⚠️ Success rate in the last 24h is 75.0% (1 of 4 runs failed), below 95%");
    }

    @Test
    void eachRuleIsJudgedByItsRangesAndTheWordsNameTheRangeBroken() {
        new RunHistory(db).finished(acme, "success", "5 minutes", 1);
        // 3 stuck leads; a warning range that alerts inside 1..5, and a critical one for the last run's age
        Thresholds limits = new Thresholds(Map.of(
                Measure.STUCK_LEADS, new Limits(Optional.of(Range.parse("@1:5")), Optional.empty()),
                Measure.HOURS_SINCE_LAST_RUN, new Limits(Optional.empty(), Optional.of(Range.parse("~:0.05")))),
                Duration.ofMinutes(30));

        HealthReport report = new HealthCheck(db.db().dsl(), limits).evaluate();

        assertThat(report.level()).isEqualTo(Level.CRITICAL);
        assertThat(report.findings()).extracting(Finding::line).contains(
                "⚠️ 3 stuck lead(s) (finished their sequence more than 30 min ago, still enrolled), between 1 and 5",
                "❌ No de-enrollment run in the last 3 minutes (last run 5 min ago)");
        // measures left out keep their defaults
        assertThat(limits.of(Measure.PEAK_MEMORY)).isEqualTo(Measure.PEAK_MEMORY.defaults());
        assertThat(report.metrics()).containsEntry("failedRuns24hMaxPerClient", 0L).containsKey("hoursSinceLastRun");
    }

    @Test
    void aFindingAboutAClientCarriesTheClientAndTheCommandToRunAndOneAboutThePlatformNeither() {
        RunHistory runs = new RunHistory(db);
        runs.finished(acme, "success", "3 hours", 1);
        runs.finished(acme, "failed", "1 hour", 6);

        HealthReport report = evaluate();

        Finding overdue = report.problems().stream().filter(f -> f.rule().equals("hours_since_success")).findFirst().orElseThrow();
        assertThat(overdue.client()).contains(new ClientRef(acme, "Acme"));
        assertThat(overdue.nextStep()).contains("deenroll run --client-id=" + acme);
        assertThat(overdue.json()).containsEntry("clientId", acme.toString()).containsEntry("clientName", "Acme")
                .containsEntry("nextStep", "deenroll run --client-id=" + acme);
        Finding platform = report.findings().stream().filter(f -> f.rule().equals("failed_runs_platform")).findFirst().orElseThrow();
        assertThat(platform.client()).isEmpty();
        assertThat(platform.json()).doesNotContainKeys("clientId", "clientName");
        assertThat(new HealthCheck(db.db().dsl(), Thresholds.DEFAULTS).assess().findings())
                .as("the read-only assessment judges by the same rules").isEqualTo(report.findings());
    }
}
