package deenroll.metrics;

import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.HttpRecorder;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * --pushgateway pushes to /metrics/job/deenroll (no instance label): PUT with
 * the last success time after a success, POST without it otherwise, so the
 * Pushgateway keeps the previous success's time. The counter of leads
 * de-enrolled adds to what the group held, read back from the API first.
 */
class PushgatewayTest {

    private TestDatabase db;
    private Fixtures fixtures;
    private UUID acme;

    @BeforeEach
    void leadsToDeEnroll() {
        db = TestPostgres.get().migrated();
        fixtures = new Fixtures(db.db().dsl());
        acme = fixtures.client("Acme");
        fixtures.leads(acme, fixtures.campaign(acme, 2), 2, 2);
        fixtures.recount();
    }

    @AfterEach
    void drop() {
        db.close();
    }

    @Test
    void aSuccessReplacesTheJobsGroupWithTheLastSuccessTime() throws Exception {
        try (HttpRecorder gateway = new HttpRecorder(200)) {
            Cli.Result r = Cli.run(db, "run", "--pushgateway", gateway.url("/"));

            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(pushes(gateway)).hasSize(1);
            HttpRecorder.Request push = pushes(gateway).get(0);
            assertThat(push.method()).isEqualTo("PUT");
            assertThat(push.path()).isEqualTo("/metrics/job/deenroll");
            assertThat(push.contentType()).startsWith("text/plain");
            assertThat(push.body()).contains("deenroll_last_success_timestamp_seconds ")
                    .contains("deenroll_leads_de_enrolled_total{outcome=\"completed\"} 2.0")
                    .doesNotContain("instance=");
        }
    }

    @Test
    void aFailureAddsItsMetricsWithoutTouchingTheLastSuccessTime() throws Exception {
        db.sql("CREATE FUNCTION test_fail() RETURNS trigger LANGUAGE plpgsql AS $$"
                + " BEGIN RAISE EXCEPTION 'test: broken' USING ERRCODE = 'query_canceled'; END $$;"
                + " CREATE TRIGGER test_fail AFTER UPDATE ON campaigns FOR EACH ROW EXECUTE FUNCTION test_fail();");
        try (HttpRecorder gateway = new HttpRecorder(200)) {
            Cli.Result r = Cli.run(db, Map.of("DE_ENROLLMENT_PUSHGATEWAY_URL", gateway.url("/pg")), "run");

            assertThat(r.exitCode()).isEqualTo(1);
            HttpRecorder.Request push = pushes(gateway).get(0);
            assertThat(push.method()).isEqualTo("POST");
            assertThat(push.path()).isEqualTo("/pg/metrics/job/deenroll");
            assertThat(push.body()).doesNotContain("deenroll_last_success_timestamp_seconds")
                    .contains("deenroll_last_run_exit_code 1.0");
        }
    }

    @Test
    void aPushgatewayThatFailsDoesNotChangeTheExitCode() throws Exception {
        try (HttpRecorder gateway = new HttpRecorder(500)) {
            Cli.Result r = Cli.run(db, "run", "--pushgateway", gateway.url("/"));

            assertThat(r.exitCode()).isZero();
            assertThat(pushes(gateway)).as("retried on 5xx").hasSizeGreaterThan(1);
        }
    }

    @Test
    void theCounterAddsToWhatTheGroupHeld() throws Exception {
        try (HttpRecorder gateway = new HttpRecorder(200).answeringGets(GROUP)) {
            Cli.Result r = Cli.run(db, "run", "--pushgateway", gateway.url("/pg"));

            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(gateway.requests().get(0).method()).isEqualTo("GET");
            assertThat(gateway.requests().get(0).path()).isEqualTo("/pg/api/v1/metrics");
            assertThat(pushes(gateway).get(0).body())
                    .contains("deenroll_leads_de_enrolled_total{outcome=\"completed\"} 42.0")
                    .contains("deenroll_leads_de_enrolled_total{outcome=\"booked\"} 7.0")
                    .contains("deenroll_last_run_leads_de_enrolled{outcome=\"completed\"} 2.0");
        }
    }

    @Test
    void aFailureReadsBackTheCounterButNeverSendsBackTheLastSuccessTime() throws Exception {
        db.sql("CREATE FUNCTION test_fail() RETURNS trigger LANGUAGE plpgsql AS $$"
                + " BEGIN RAISE EXCEPTION 'test: broken' USING ERRCODE = 'query_canceled'; END $$;"
                + " CREATE TRIGGER test_fail AFTER UPDATE ON campaigns FOR EACH ROW EXECUTE FUNCTION test_fail();");
        try (HttpRecorder gateway = new HttpRecorder(200).answeringGets(GROUP)) {
            assertThat(Cli.run(db, "run", "--pushgateway", gateway.url("/pg")).exitCode()).isEqualTo(1);

            HttpRecorder.Request push = pushes(gateway).get(0);
            assertThat(push.method()).isEqualTo("POST");
            assertThat(push.body()).doesNotContain("deenroll_last_success_timestamp_seconds")
                    .contains("deenroll_leads_de_enrolled_total{outcome=\"completed\"} 40.0");
        }
    }

    @Test
    void aGroupThatCannotBeReadStartsTheCounterAgainWithoutFailingTheRun() throws Exception {
        try (HttpRecorder gateway = new HttpRecorder(200).answeringGets("not json")) {
            Cli.Result r = Cli.run(db, "run", "--pushgateway", gateway.url("/pg"));

            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(pushes(gateway).get(0).body()).contains("deenroll_leads_de_enrolled_total{outcome=\"completed\"} 2.0");
        }
    }

    @Test
    void aPushgatewayUrlWithAQueryStringGetsThePathBeforeIt() throws Exception {
        try (HttpRecorder gateway = new HttpRecorder(200)) {
            Cli.Result r = Cli.run(db, "run", "--pushgateway", gateway.url("/pg/?token=abc"));

            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(gateway.requests()).extracting(HttpRecorder.Request::path)
                    .containsExactly("/pg/api/v1/metrics", "/pg/metrics/job/deenroll");
            assertThat(gateway.requests()).extracting(HttpRecorder.Request::query).containsOnly("token=abc");
        }
    }

    /** The group as Pushgateway 1.5's /api/v1/metrics shows it, next to another job's. */
    private static final String GROUP = """
            {"status":"success","data":[
             {"labels":{"job":"other"},"deenroll_leads_de_enrolled_total":{"type":"COUNTER","metrics":[
               {"labels":{"instance":"","job":"other","outcome":"completed"},"value":"1000"}]}},
             {"labels":{"job":"deenroll"},
              "deenroll_last_success_timestamp_seconds":{"type":"GAUGE","metrics":[
               {"labels":{"instance":"","job":"deenroll"},"value":"1.7e+09"}]},
              "deenroll_leads_de_enrolled_total":{"type":"COUNTER","metrics":[
               {"labels":{"instance":"","job":"deenroll","outcome":"completed"},"value":"40"},
               {"labels":{"instance":"","job":"deenroll","outcome":"booked"},"value":"7"}]}}]}
            """;

    private static List<HttpRecorder.Request> pushes(HttpRecorder gateway) {
        return gateway.requests().stream().filter(r -> !r.method().equals("GET")).toList();
    }

    @Test
    void aPushgatewayUrlThatIsNotHttpIsAUsageError() {
        Cli.Result r = Cli.run(db, "run", "--pushgateway", "ftp://push.example.org");

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("deenroll: --pushgateway: expected an http:// or https:// URL");
    }
}
