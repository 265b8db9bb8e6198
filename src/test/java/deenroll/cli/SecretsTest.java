package deenroll.cli;

import deenroll.support.Query;
import deenroll.support.AlertReceiver;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * DESIGN §2: passwords and webhook tokens never appear in logs, output, run
 * records or alerts. Checked on the command's stdout/stderr and on everything
 * the process logs, for failures (unreachable database) and for normal work.
 */
class SecretsTest {

    private static final String PASSWORD = "S3cretPw";
    private static final String TOKEN = "secret-token-123";

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"run", "health-check", "migrate", "--health-check", "--all-clients"})
    void unreachableDatabaseUrlPasswordAppearsNowhere(String command) {
        Map<String, String> env = Map.of("DATABASE_URL", "postgres://user:" + PASSWORD + "@127.0.0.1:1/db");

        var captured = ProcessStreams.capture(() -> Cli.run(env, command));

        Cli.Result r = captured.value();
        assertThat(r.exitCode()).as("fails: %s", r.err()).isIn(3, 4);
        assertThat(r.out()).doesNotContain(PASSWORD);
        assertThat(r.err()).doesNotContain(PASSWORD);
        assertThat(captured.text()).as("logs").doesNotContain(PASSWORD);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"run", "health-check", "migrate"})
    void passwordInAJdbcUrlQueryAppearsNowhere(String command) {
        Map<String, String> env = Map.of("DATABASE_URL",
                "jdbc:postgresql://127.0.0.1:1/db?user=user&password=" + PASSWORD);

        var captured = ProcessStreams.capture(() -> Cli.run(env, command));

        Cli.Result r = captured.value();
        assertThat(r.exitCode()).isIn(3, 4);
        assertThat(r.out() + r.err() + captured.text()).doesNotContain(PASSWORD);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {
            "jdbc:postgresql://app:" + PASSWORD + "@db.invalid:5432/app",       // user info: postgres:// style
            "jdbc:postgresql://127.0.0.1:5432?user=u&password=" + PASSWORD})  // no / after the port
    void aJdbcUrlTheDriverCannotTakeIsAUsageErrorThatDoesNotEchoIt(String url) {
        var captured = ProcessStreams.capture(() -> Cli.run(Map.of("DATABASE_URL", url, "LOG_LEVEL", "trace"), "run"));

        Cli.Result r = captured.value();
        assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE);
        assertThat(r.err().lines()).singleElement().asString().startsWith("deenroll: DATABASE_URL: ");
        assertThat(r.out() + r.err() + captured.text()).doesNotContain(PASSWORD).doesNotContain("No suitable driver");
    }

    @Test
    void workingDatabaseWithPasswordInItsUrlLeavesThePasswordNowhere() throws Exception {
        // the embedded server trusts local connections, so a password in the URL is sent and ignored
        assumeTrue(System.getenv("DEENROLL_TEST_DATABASE_URL") == null, "needs the embedded server's trust auth");
        try (TestDatabase db = TestPostgres.get().hostOnly(); AlertReceiver alerts = new AlertReceiver()) {
            URI jdbc = URI.create(db.jdbcUrl().substring("jdbc:".length()));
            String url = "postgres://postgres:" + PASSWORD + "@" + jdbc.getHost() + ":" + jdbc.getPort() + jdbc.getPath();
            Map<String, String> env = new HashMap<>();
            env.put("DATABASE_URL", url);
            env.put("DE_ENROLLMENT_ALERT_WEBHOOK", alerts.url());

            var migrate = ProcessStreams.capture(() -> Cli.run(env, "migrate"));
            assertThat(migrate.value().exitCode()).as("migrate: %s", migrate.value().err()).isZero();
            Fixtures f = new Fixtures(db.db().dsl());
            UUID client = f.client("Acme");
            f.leads(client, f.campaign(client, 1), 1, 3);
            f.recount();
            var run = ProcessStreams.capture(() -> Cli.run(env, "run", "--output", "json"));
            // a stuck-lead threshold of 0 makes the health check alert, so the alert body is checked too
            f.leads(client, f.campaign(client, 1), 1, 1);
            var health = ProcessStreams.capture(() -> Cli.run(env, "health-check", "--stuck-warning", "0"));

            assertThat(run.value().exitCode()).as("run: %s", run.value().err()).isZero();
            assertThat(health.value().exitCode()).as("health: %s", health.value().out()).isEqualTo(1);
            assertThat(run.text()).as("logs are captured").contains("de-enrolled");
            for (var c : new ProcessStreams.Captured<?>[] {migrate, run, health}) {
                Cli.Result r = (Cli.Result) c.value();
                assertThat(r.out() + r.err() + c.text()).doesNotContain(PASSWORD).doesNotContain(TOKEN);
            }
            assertThat(alerts.bodies()).isNotEmpty();
            assertThat(String.join("\n", alerts.bodies())).doesNotContain(PASSWORD);
            String runRecords = Query.value(db.db().dsl(), String.class, "SELECT string_agg(r::text, E'\\n') FROM de_enrollment_runs r");
            assertThat(runRecords).isNotBlank().doesNotContain(PASSWORD);
        }
    }

    @Test
    void webhookTokenIsNotLoggedWhenTheWebhookFails() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated(); AlertReceiver failing = new AlertReceiver(500)) {
            var captured = ProcessStreams.capture(() -> Cli.run(db,
                    Map.of("DE_ENROLLMENT_ALERT_WEBHOOK", failing.url(), "LOG_LEVEL", "trace"), "health-check"));

            assertThat(failing.bodies()).as("the alert was attempted").isNotEmpty();
            Cli.Result r = captured.value();
            assertThat(r.out() + r.err() + captured.text()).doesNotContain(TOKEN);
        }
    }
}
