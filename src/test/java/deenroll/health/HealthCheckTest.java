package deenroll.health;

import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

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
        assertThat(report.level()).isEqualTo(Level.WARNING);
        assertThat(report.findings()).extracting(Finding::line)
                .contains("⚠️ Success rate in the last 24h is 75.0% (1 of 4 runs failed), below 95%");
    }
}
