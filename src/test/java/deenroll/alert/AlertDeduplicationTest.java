package deenroll.alert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import deenroll.health.RunHistory;
import deenroll.support.AlertReceiver;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
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
 * A condition that lasts (a client failing every 15 minutes, a health check
 * that stays red) is alerted once, again after the repeat interval or when it
 * gets worse, and "resolved" once when it clears; the state is in
 * de_enrollment_alert_state, so separate processes share it.
 */
class AlertDeduplicationTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private TestDatabase db;
    private Fixtures fixtures;
    private UUID acme;

    @BeforeEach
    void oneClientWithWork() {
        db = TestPostgres.get().migrated();
        fixtures = new Fixtures(db.db().dsl());
        acme = fixtures.client("Acme");
        UUID campaign = fixtures.campaign(acme, 2);
        fixtures.leads(acme, campaign, 2, 3);
        fixtures.recount();
    }

    @AfterEach
    void drop() {
        db.close();
    }

    /** Every run of Acme fails: moving its campaign counters raises (created after recount()). */
    private void acmeFails() {
        db.sql("CREATE OR REPLACE FUNCTION test_fail() RETURNS trigger LANGUAGE plpgsql AS $$"
                + " BEGIN RAISE EXCEPTION 'test: campaign % broken', NEW.id USING ERRCODE = 'query_canceled'; END $$;"
                + " CREATE TRIGGER test_fail AFTER UPDATE ON campaigns FOR EACH ROW EXECUTE FUNCTION test_fail();");
    }

    private void acmeRecovers() {
        db.sql("DROP TRIGGER test_fail ON campaigns");
    }

    private Cli.Result run(AlertReceiver receiver) {
        return Cli.run(db, Map.of("DE_ENROLLMENT_ALERT_WEBHOOK", receiver.url()), "run");
    }

    private List<JsonNode> alerts(AlertReceiver receiver) throws Exception {
        List<JsonNode> alerts = new java.util.ArrayList<>();
        for (String body : receiver.bodies()) {
            alerts.add(JSON.readTree(body));
        }
        return alerts;
    }

    @Test
    void aClientFailingRunAfterRunIsAlertedOnceWithinTheRepeatInterval() throws Exception {
        acmeFails();
        try (AlertReceiver receiver = new AlertReceiver()) {
            assertThat(run(receiver).exitCode()).isEqualTo(1);
            assertThat(run(receiver).exitCode()).as("exit code unchanged by a suppressed alert").isEqualTo(1);
            assertThat(run(receiver).exitCode()).isEqualTo(1);

            assertThat(alerts(receiver)).hasSize(1);
            assertThat(alerts(receiver).get(0).path("severity").asText()).isEqualTo("critical");
            assertThat(alerts(receiver).get(0).path("message").asText()).contains("Acme");
        }
    }

    @Test
    void theAlertIsRepeatedOnceTheRepeatIntervalHasPassed() throws Exception {
        acmeFails();
        try (AlertReceiver receiver = new AlertReceiver()) {
            run(receiver);
            db.sql("UPDATE de_enrollment_alert_state SET last_sent = last_sent - interval '61 minutes'");

            run(receiver);

            assertThat(receiver.bodies()).hasSize(2);
        }
    }

    @Test
    void theRepeatIntervalIsConfigurable() throws Exception {
        acmeFails();
        try (AlertReceiver receiver = new AlertReceiver()) {
            Map<String, String> env = Map.of("DE_ENROLLMENT_ALERT_WEBHOOK", receiver.url(), "DE_ENROLLMENT_ALERT_REPEAT", "5");
            Cli.run(db, env, "run");
            db.sql("UPDATE de_enrollment_alert_state SET last_sent = last_sent - interval '6 minutes'");

            Cli.run(db, env, "run");

            assertThat(receiver.bodies()).as("repeated after 5 minutes").hasSize(2);
        }
    }

    @Test
    void aResolvedMessageIsSentOnceWhenTheClientRunsAgain() throws Exception {
        acmeFails();
        try (AlertReceiver receiver = new AlertReceiver()) {
            run(receiver);
            acmeRecovers();

            assertThat(run(receiver).exitCode()).isZero();
            run(receiver);

            List<JsonNode> alerts = alerts(receiver);
            assertThat(alerts).hasSize(2);
            assertThat(alerts.get(1).path("severity").asText()).isEqualTo("info");
            assertThat(alerts.get(1).path("message").asText()).startsWith("Resolved: ").contains("Acme");
            assertThat(db.db().dsl().fetchValue("SELECT resolved_at IS NOT NULL FROM de_enrollment_alert_state"
                    + " WHERE condition_key = 'run-failed:" + acme + "'")).isEqualTo(true);
        }
    }

    @Test
    void everyClientThatRecoversInOneRunGetsItsOwnResolvedMessage() throws Exception {
        UUID beta = fixtures.client("Beta");
        fixtures.leads(beta, fixtures.campaign(beta, 2), 2, 2);
        fixtures.recount();
        acmeFails(); // the trigger refuses every campaign's counters: both clients fail
        try (AlertReceiver receiver = new AlertReceiver()) {
            assertThat(run(receiver).exitCode()).isEqualTo(1);
            acmeRecovers();

            // one run clears both clients' conditions, in one statement
            assertThat(run(receiver).exitCode()).isZero();

            List<JsonNode> alerts = alerts(receiver);
            List<String> resolved = alerts.stream().map(a -> a.path("message").asText())
                    .filter(m -> m.startsWith("Resolved: ")).toList();
            assertThat(alerts).as("two failures, then two resolutions: %s", alerts).hasSize(4);
            assertThat(resolved).hasSize(2).anyMatch(m -> m.contains("Acme")).anyMatch(m -> m.contains("Beta"));
            assertThat(db.db().dsl().fetchValue("SELECT count(*) FROM de_enrollment_alert_state"
                    + " WHERE resolved_at IS NULL")).as("conditions still holding").isEqualTo(0L);
        }
    }

    @Test
    void aConditionThatComesBackAfterItsResolutionIsAlertedAgain() throws Exception {
        acmeFails();
        try (AlertReceiver receiver = new AlertReceiver()) {
            run(receiver);
            acmeRecovers();
            run(receiver);
            fixtures.leads(acme, fixtures.campaign(acme, 1), 1, 2);
            acmeFails();

            run(receiver);

            assertThat(alerts(receiver)).extracting(a -> a.path("severity").asText())
                    .containsExactly("critical", "info", "critical");
        }
    }

    @Test
    void anAlertTheWebhookDidNotTakeIsSentAgainByTheNextRun() throws Exception {
        acmeFails();
        try (AlertReceiver down = new AlertReceiver(503); AlertReceiver up = new AlertReceiver()) {
            assertThat(run(down).exitCode()).as("a failing webhook does not change the exit code").isEqualTo(1);

            run(up);

            assertThat(up.bodies()).hasSize(1);
        }
    }

    @Test
    void aWebhookThatIsDownIsNotRetriedForEveryFailingClient() throws Exception {
        UUID beta = fixtures.client("Beta");
        fixtures.leads(beta, fixtures.campaign(beta, 1), 1, 1);
        acmeFails();
        try (AlertReceiver down = new AlertReceiver(503); AlertReceiver up = new AlertReceiver()) {
            assertThat(run(down).exitCode()).isEqualTo(1);

            assertThat(down.bodies()).as("retries of the first alert only").isNotEmpty()
                    .allSatisfy(body -> assertThat(body).isEqualTo(down.bodies().get(0)));
            run(up);
            assertThat(alerts(up)).as("both undelivered alerts go out with the next run")
                    .extracting(a -> a.path("message").asText())
                    .containsExactlyInAnyOrder("De-enrollment failed for client Acme (" + acme + ")",
                            "De-enrollment failed for client Beta (" + beta + ")");
        }
    }

    @Test
    void aHealthCheckThatStaysWarningAlertsOnceThenEscalatesAndResolves() throws Exception {
        RunHistory runs = new RunHistory(db);
        UUID beta = fixtures.client("Beta");
        runs.finished(acme, "success", "5 minutes", 1);
        runs.finished(beta, "success", "5 minutes", 1);
        fixtures.leads(acme, fixtures.campaign(acme, 1), 1, 6);
        try (AlertReceiver receiver = new AlertReceiver()) {
            Map<String, String> env = Map.of("DE_ENROLLMENT_ALERT_WEBHOOK", receiver.url());
            assertThat(Cli.run(db, env, "health-check", "--stuck-warning", "5").exitCode()).isEqualTo(1);
            assertThat(Cli.run(db, env, "health-check", "--stuck-warning", "5").exitCode()).isEqualTo(1);
            assertThat(receiver.bodies()).as("the same WARNING twice").hasSize(1);

            runs.finished(beta, "success", "3 hours", 1);
            db.sql("DELETE FROM de_enrollment_runs WHERE client_id = '" + beta + "' AND run_at > now() - interval '1 hour'");
            assertThat(Cli.run(db, env, "health-check", "--stuck-warning", "5").exitCode()).isEqualTo(2);
            assertThat(receiver.bodies()).as("worse: sent at once").hasSize(2);

            db.sql("DELETE FROM de_enrollment_runs");
            assertThat(Cli.run(db, env, "run").exitCode()).isZero();
            assertThat(Cli.run(db, env, "health-check", "--stuck-warning", "5").exitCode()).isZero();
            Cli.run(db, env, "health-check", "--stuck-warning", "5");

            List<JsonNode> alerts = alerts(receiver);
            assertThat(alerts).extracting(a -> a.path("severity").asText()).containsExactly("warning", "critical", "info");
            assertThat(alerts.get(2).path("message").asText()).startsWith("Resolved: De-enrollment health CRITICAL");
        }
    }
}
