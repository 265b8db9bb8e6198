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

import java.net.URI;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * health-check POSTs {severity, message, details, timestamp, service} to
 * DE_ENROLLMENT_ALERT_WEBHOOK on WARNING and CRITICAL, nothing on OK; and a
 * webhook that is down or failing never changes what the check reports.
 */
class HealthAlertsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private TestDatabase db;
    private Fixtures fixtures;
    private RunHistory runs;
    private UUID acme;
    private UUID campaign;

    @BeforeEach
    void oneClient() {
        db = TestPostgres.get().migrated();
        fixtures = new Fixtures(db.db().dsl());
        runs = new RunHistory(db);
        acme = fixtures.client("Acme");
        campaign = fixtures.campaign(acme, 2);
        fixtures.leads(acme, campaign, 1, 2);
        fixtures.recount();
    }

    @AfterEach
    void drop() {
        db.close();
    }

    /** A WARNING state: a recent success, and 6 stuck leads over a threshold of 5. */
    private void warningState() {
        runs.finished(acme, "success", "5 minutes", 1);
        fixtures.leads(acme, campaign, 2, 6);
    }

    private Cli.Result health(String webhook, String... options) {
        String[] args = new String[options.length + 1];
        args[0] = "health-check";
        System.arraycopy(options, 0, args, 1, options.length);
        return Cli.run(db, Map.of("DE_ENROLLMENT_ALERT_WEBHOOK", webhook), args);
    }

    @Test
    void warningPostsOneWarningAlertWithTheDocumentedShape() throws Exception {
        warningState();
        try (AlertReceiver receiver = new AlertReceiver()) {
            Cli.Result r = health(receiver.url(), "--stuck-warning", "5");

            assertThat(r.exitCode()).as("stdout: %s", r.out()).isEqualTo(1);
            assertThat(receiver.bodies()).hasSize(1);
            JsonNode alert = JSON.readTree(receiver.bodies().get(0));
            assertThat(alert.path("severity").asText()).isEqualTo("warning");
            assertThat(alert.path("message").asText()).contains("6 stuck lead(s)");
            assertThat(alert.path("details").isObject()).isTrue();
            assertThat(alert.path("details").path("status").asText()).isEqualTo("WARNING");
            assertThat(Instant.parse(alert.path("timestamp").asText())).isBefore(Instant.now().plusSeconds(1));
            assertThat(alert.path("service").asText()).isEqualTo("deenroll");
        }
    }

    @Test
    void criticalPostsACriticalAlertNamingTheClient() throws Exception {
        runs.finished(fixtures.client("Beta"), "success", "5 minutes", 1);
        runs.finished(acme, "success", "3 hours", 1);
        try (AlertReceiver receiver = new AlertReceiver()) {
            Cli.Result r = health(receiver.url());

            assertThat(r.exitCode()).as("stdout: %s", r.out()).isEqualTo(2);
            assertThat(receiver.bodies()).hasSize(1);
            JsonNode alert = JSON.readTree(receiver.bodies().get(0));
            assertThat(alert.path("severity").asText()).isEqualTo("critical");
            assertThat(alert.path("message").asText())
                    .isEqualTo("De-enrollment health CRITICAL: Client Acme (" + acme + ") hasn't run successfully in 3 hours");
            JsonNode details = alert.path("details");
            assertThat(details.path("problems").get(0).asText())
                    .endsWith("— next: deenroll run --client-id=" + acme);
            JsonNode finding = details.path("findings").get(0);
            assertThat(finding.path("clientId").asText()).isEqualTo(acme.toString());
            assertThat(finding.path("clientName").asText()).isEqualTo("Acme");
            assertThat(finding.path("nextStep").asText()).isEqualTo("deenroll run --client-id=" + acme);
            assertThat(details.path("nextStep").asText()).startsWith("deenroll run --client-id=" + acme);
        }
    }

    @Test
    void okPostsNothing() throws Exception {
        assertThat(Cli.run(db, "run").exitCode()).isZero();
        try (AlertReceiver receiver = new AlertReceiver()) {
            Cli.Result r = health(receiver.url());

            assertThat(r.exitCode()).as("stdout: %s", r.out()).isZero();
            assertThat(receiver.bodies()).isEmpty();
        }
    }

    @Test
    void unreachableWebhookDoesNotChangeTheExitCode() {
        warningState();

        Cli.Result r = health("http://127.0.0.1:1/", "--stuck-warning", "5");

        assertThat(r.exitCode()).as("stdout: %s%nstderr: %s", r.out(), r.err()).isEqualTo(1);
        assertThat(r.out()).contains("⚠️ 6 stuck lead(s)");
    }

    @Test
    void webhookAnswering500DoesNotChangeTheExitCode() throws Exception {
        runs.finished(fixtures.client("Beta"), "success", "5 minutes", 1);
        runs.finished(acme, "success", "3 hours", 1);
        try (AlertReceiver failing = new AlertReceiver(500)) {
            Cli.Result r = health(failing.url());

            assertThat(failing.bodies()).as("the alert was attempted, and retried on 5xx").hasSizeGreaterThan(1);
            assertThat(r.exitCode()).as("stdout: %s%nstderr: %s", r.out(), r.err()).isEqualTo(2);
        }
    }

    @Test
    void alertAndOutputNeverContainTheDatabasePassword() throws Exception {
        // the embedded server trusts local connections: the password is sent and ignored
        assumeTrue(System.getenv("DEENROLL_TEST_DATABASE_URL") == null, "needs the embedded server's trust auth");
        warningState();
        URI jdbc = URI.create(db.jdbcUrl().substring("jdbc:".length()));
        String url = "postgres://postgres:S3cretPw@" + jdbc.getHost() + ":" + jdbc.getPort() + jdbc.getPath();
        try (AlertReceiver receiver = new AlertReceiver()) {
            Cli.Result r = Cli.run(Map.of("DATABASE_URL", url, "DE_ENROLLMENT_ALERT_WEBHOOK", receiver.url()),
                    "health-check", "--stuck-warning", "5");

            assertThat(r.exitCode()).as("stdout: %s%nstderr: %s", r.out(), r.err()).isEqualTo(1);
            assertThat(receiver.bodies()).hasSize(1);
            assertThat(receiver.bodies().get(0)).doesNotContain("S3cretPw");
            assertThat(r.out() + r.err()).doesNotContain("S3cretPw");
        }
    }

    @Test
    void unreachableDatabaseAlertDoesNotContainThePassword() throws Exception {
        try (AlertReceiver receiver = new AlertReceiver()) {
            Cli.Result r = Cli.run(Map.of("DATABASE_URL", "postgres://user:S3cretPw@127.0.0.1:1/db",
                    "DE_ENROLLMENT_ALERT_WEBHOOK", receiver.url()), "health-check");

            assertThat(r.exitCode()).isEqualTo(3);
            assertThat(receiver.bodies()).as("UNKNOWN is alerted too").hasSize(1);
            assertThat(receiver.bodies().get(0)).contains("cannot connect").doesNotContain("S3cretPw");
        }
    }
}
