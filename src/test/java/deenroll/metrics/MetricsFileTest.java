package deenroll.metrics;

import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * --metrics-file writes node_exporter's textfile format, whole; it keeps the
 * last success time across failures and adds each run to the counter it held.
 */
class MetricsFileTest {

    @TempDir
    Path dir;

    private TestDatabase db;
    private Fixtures fixtures;
    private UUID acme;

    @BeforeEach
    void leadsToDeEnroll() {
        db = TestPostgres.get().migrated();
        fixtures = new Fixtures(db.db().dsl());
        acme = fixtures.client("Acme");
        UUID campaign = fixtures.campaign(acme, 2);
        fixtures.leads(acme, campaign, 2, 2);
        fixtures.lead(acme, campaign, 2, true, false);
        fixtures.recount();
    }

    @AfterEach
    void drop() {
        db.close();
    }

    private static String sample(String text, String series) {
        return text.lines().filter(l -> l.startsWith(series + " ")).map(l -> l.substring(series.length() + 1))
                .findFirst().orElse(null);
    }

    @Test
    void aSuccessfulRunWritesTheBatchJobMetrics() throws Exception {
        Path file = dir.resolve("deenroll.prom");

        Cli.Result r = Cli.run(db, "run", "--metrics-file", file.toString());

        assertThat(r.exitCode()).as(r.err()).isZero();
        String text = Files.readString(file);
        assertThat(text).contains("# TYPE deenroll_last_success_timestamp_seconds gauge");
        assertThat(Double.parseDouble(sample(text, "deenroll_last_success_timestamp_seconds")))
                .isGreaterThan(1.7e9);
        assertThat(sample(text, "deenroll_leads_de_enrolled_total{outcome=\"completed\"}")).isEqualTo("2.0");
        assertThat(sample(text, "deenroll_leads_de_enrolled_total{outcome=\"booked\"}")).isEqualTo("1.0");
        assertThat(sample(text, "deenroll_run_status{client=\"Acme\",client_id=\"" + acme + "\"}")).isEqualTo("0.0");
        assertThat(sample(text, "deenroll_stuck_leads")).isEqualTo("0.0");
        assertThat(sample(text, "deenroll_last_run_exit_code")).isEqualTo("0.0");
        assertThat(sample(text, "deenroll_last_run_duration_seconds")).isNotNull();
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).as("no temporary file left behind").containsExactly(file);
        }
    }

    @Test
    void aFailedRunKeepsThePreviousLastSuccessAndReportsTheFailure() throws Exception {
        Path file = dir.resolve("deenroll.prom");
        Map<String, String> env = Map.of("DE_ENROLLMENT_METRICS_FILE", file.toString());
        assertThat(Cli.run(db, env, "run").exitCode()).isZero();
        String lastSuccess = sample(Files.readString(file), "deenroll_last_success_timestamp_seconds");
        fixtures.leads(acme, fixtures.campaign(acme, 1), 1, 1);
        db.sql("CREATE FUNCTION test_fail() RETURNS trigger LANGUAGE plpgsql AS $$"
                + " BEGIN RAISE EXCEPTION 'test: broken' USING ERRCODE = 'query_canceled'; END $$;"
                + " CREATE TRIGGER test_fail AFTER UPDATE ON campaigns FOR EACH ROW EXECUTE FUNCTION test_fail();");

        assertThat(Cli.run(db, env, "run").exitCode()).isEqualTo(1);

        String text = Files.readString(file);
        assertThat(sample(text, "deenroll_last_success_timestamp_seconds")).isEqualTo(lastSuccess);
        assertThat(sample(text, "deenroll_run_status{client=\"Acme\",client_id=\"" + acme + "\"}")).isEqualTo("2.0");
        assertThat(sample(text, "deenroll_last_run_exit_code")).isEqualTo("1.0");
    }

    @Test
    void theCounterAddsUpOverRunsAndTheLastRunHasItsOwnGauge() throws Exception {
        Path file = dir.resolve("deenroll.prom");
        assertThat(Cli.run(db, "run", "--metrics-file", file.toString()).exitCode()).isZero();
        fixtures.leads(acme, fixtures.campaign(acme, 1), 1, 1);
        fixtures.recount();

        assertThat(Cli.run(db, "run", "--metrics-file", file.toString()).exitCode()).isZero();

        String text = Files.readString(file);
        assertThat(text).contains("# TYPE deenroll_leads_de_enrolled_total counter");
        assertThat(sample(text, "deenroll_leads_de_enrolled_total{outcome=\"completed\"}")).isEqualTo("3.0");
        assertThat(sample(text, "deenroll_leads_de_enrolled_total{outcome=\"booked\"}")).isEqualTo("1.0");
        assertThat(sample(text, "deenroll_last_run_leads_de_enrolled{outcome=\"completed\"}")).isEqualTo("1.0");
        assertThat(sample(text, "deenroll_last_run_leads_de_enrolled{outcome=\"booked\"}")).isEqualTo("0.0");
    }

    @Test
    void aRunWithoutDatabaseRecordsItsCompletionAndKeepsTheLastSuccessAndTheCounter() throws Exception {
        Path file = dir.resolve("deenroll.prom");
        assertThat(Cli.run(db, "run", "--metrics-file", file.toString()).exitCode()).isZero();
        String before = Files.readString(file);

        Cli.Result r = Cli.run(Map.of("DATABASE_URL", "postgres://u@127.0.0.1:1/db",
                "DE_ENROLLMENT_CONNECT_TIMEOUT", "1000"), "run", "--metrics-file", file.toString());

        assertThat(r.exitCode()).isEqualTo(4);
        String text = Files.readString(file);
        assertThat(sample(text, "deenroll_last_run_exit_code")).isEqualTo("4.0");
        assertThat(Double.parseDouble(sample(text, "deenroll_last_run_timestamp_seconds")))
                .isGreaterThanOrEqualTo(Double.parseDouble(sample(before, "deenroll_last_run_timestamp_seconds")));
        assertThat(sample(text, "deenroll_last_success_timestamp_seconds"))
                .isEqualTo(sample(before, "deenroll_last_success_timestamp_seconds"));
        assertThat(sample(text, "deenroll_leads_de_enrolled_total{outcome=\"completed\"}")).isEqualTo("2.0");
        assertThat(text).as("nothing about an invocation that did not happen").doesNotContain("deenroll_run_status");
    }

    @Test
    void healthCheckWritesItsOwnMetrics() throws Exception {
        Path file = dir.resolve("deenroll-health.prom");
        assertThat(Cli.run(db, "run").exitCode()).isZero();

        Cli.Result r = Cli.run(db, "health-check", "--metrics-file", file.toString());

        assertThat(r.exitCode()).as(r.out()).isZero();
        String text = Files.readString(file);
        assertThat(sample(text, "deenroll_health_status")).isEqualTo("0.0");
        assertThat(sample(text, "deenroll_health_stuck_leads")).isEqualTo("0.0");
        assertThat(sample(text, "deenroll_health_success_rate_24h_percent")).isEqualTo("100.0");
        assertThat(sample(text, "deenroll_health_paused_seconds")).isEqualTo("0.0");
        assertThat(text).doesNotContain("deenroll_stuck_leads ");
    }

    @Test
    void healthCheckSaysHowLongDeEnrollmentHasBeenPaused() throws Exception {
        Path file = dir.resolve("deenroll-health.prom");
        assertThat(Cli.run(db, "pause", "--reason", "maintenance").exitCode()).isZero();
        db.sql("UPDATE de_enrollment_pauses SET paused_at = now() - interval '25 hours'");

        assertThat(Cli.run(db, "health-check", "--metrics-file", file.toString()).exitCode()).isEqualTo(2);

        double seconds = Double.parseDouble(sample(Files.readString(file), "deenroll_health_paused_seconds"));
        assertThat(seconds).isBetween(25 * 3600.0, 25 * 3600.0 + 600);
    }

    @Test
    void aDryRunWritesNoMetrics() {
        Path file = dir.resolve("deenroll.prom");

        assertThat(Cli.run(db, "run", "--dry-run", "--metrics-file", file.toString()).exitCode()).isZero();

        assertThat(file).doesNotExist();
    }

    @Test
    void aMetricsFileInAMissingDirectoryIsAUsageError() {
        Cli.Result r = Cli.run(db, Map.of("DE_ENROLLMENT_METRICS_FILE", dir.resolve("nope/deenroll.prom").toString()), "run");

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().lines()).hasSize(1);
        assertThat(r.err()).contains("DE_ENROLLMENT_METRICS_FILE").contains("existing directory");
        assertThat(new Fixtures(db.db().dsl()).eligible()).as("nothing touched").isEqualTo(3);
    }
}
