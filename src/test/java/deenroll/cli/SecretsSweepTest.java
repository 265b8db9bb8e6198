package deenroll.cli;

import deenroll.support.AlertReceiver;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.HttpRecorder;
import deenroll.support.Query;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The secrets sweep (DESIGN §2): every command x every way a secret reaches
 * the tool (a password in postgres://user:pass@, in a jdbc: URL's user info or
 * its password= parameter, in PGPASSWORD, in --database-url or a mistyped
 * option; against a working server, an unreachable one, and as a malformed
 * URL; with webhook, ping and Pushgateway URLs holding tokens) x every output
 * (stdout as text and as JSON, stderr and the process's logs at
 * LOG_LEVEL=trace, alert, ping and Pushgateway bodies, the metrics file, and
 * every table the tool writes): no secret appears in any of them.
 */
class SecretsSweepTest {

    private static final String PASSWORD = "S3cretPw";
    private static final String PUSH_SECRET = "Pu5hSecret";
    private static final String PING_TOKEN = "9f1c-ping-token";
    /** In AlertReceiver's URL path, as a Slack webhook holds its token. */
    private static final String WEBHOOK_TOKEN = "secret-token-123";
    private static final List<String> SECRETS = List.of(PASSWORD, PUSH_SECRET, PING_TOKEN, WEBHOOK_TOKEN);
    private static final List<String> TABLES = List.of("de_enrollment_runs", "de_enrollment_runs_archive",
            "de_enrollment_lead_log", "de_enrollment_invocations", "de_enrollment_heartbeats",
            "de_enrollment_alert_state", "de_enrollment_pauses");

    /** How the database and its password are given: environment and arguments put before the command's own. */
    private record Form(String name, Map<String, String> env, List<String> args) {
    }

    @Test
    void noSecretAppearsInAnyOutputOfAnyCommandForAnyFormOfUrl(@TempDir Path dir) throws Exception {
        assumeTrue(System.getenv("DEENROLL_TEST_DATABASE_URL") == null, "needs the embedded server's trust auth");
        try (TestDatabase db = TestPostgres.get().migrated(); AlertReceiver alerts = new AlertReceiver();
             HttpRecorder ping = new HttpRecorder(200); HttpRecorder push = new HttpRecorder(200)) {
            Fixtures f = new Fixtures(db.db().dsl());
            UUID client = f.client("Acme");
            f.leads(client, f.campaign(client, 1), 1, 3);
            f.recount();
            UUID lead = Query.value(db.db().dsl(), UUID.class, "SELECT id FROM leads LIMIT 1");
            Path metrics = dir.resolve("deenroll.prom");
            Map<String, String> monitoring = Map.of(
                    "DE_ENROLLMENT_ALERT_WEBHOOK", alerts.url(),
                    "DE_ENROLLMENT_PING_URL", ping.url("/ping/" + PING_TOKEN),
                    "DE_ENROLLMENT_PUSHGATEWAY_URL", push.url("/").replace("http://", "http://push:" + PUSH_SECRET + "@"),
                    "DE_ENROLLMENT_METRICS_FILE", metrics.toString(),
                    "LOG_LEVEL", "trace");
            URI server = URI.create(db.jdbcUrl().substring("jdbc:".length()));

            List<String> leaks = new ArrayList<>();
            int cases = 0;
            for (Form form : forms(server.getHost(), server.getPort(), db.name())) {
                for (List<String> command : commands(lead)) {
                    for (String output : List.of("text", "json")) {
                        Map<String, String> env = new HashMap<>(monitoring);
                        env.putAll(form.env());
                        List<String> args = new ArrayList<>(command);
                        args.addAll(form.args());
                        args.addAll(List.of("--output", output));
                        int alertsBefore = alerts.bodies().size();
                        int pingsBefore = ping.requests().size();
                        int pushesBefore = push.requests().size();

                        var captured = ProcessStreams.capture(() -> Cli.run(env, args.toArray(String[]::new)));

                        Map<String, Supplier<String>> outputs = new LinkedHashMap<>();
                        outputs.put("stdout (" + output + ")", () -> captured.value().out() + captured.stdout());
                        outputs.put("stderr", () -> captured.value().err());
                        outputs.put("logs at trace", captured::stderr);
                        outputs.put("alert bodies", () -> String.join("\n", alerts.bodies().subList(alertsBefore, alerts.bodies().size())));
                        outputs.put("ping bodies", () -> bodies(ping, pingsBefore));
                        outputs.put("pushgateway bodies", () -> bodies(push, pushesBefore));
                        outputs.put("metrics file", () -> read(metrics));
                        for (String table : TABLES) {
                            outputs.put(table, () -> Query.value(db.db().dsl(), String.class,
                                    "SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM " + table + " t"));
                        }
                        for (Map.Entry<String, Supplier<String>> out : outputs.entrySet()) {
                            cases++;
                            String text = out.getValue().get();
                            for (String secret : SECRETS) {
                                if (text.contains(secret)) {
                                    leaks.add(String.join(" ", command) + " | " + form.name() + " | " + out.getKey()
                                            + " holds " + secret + ": " + text.lines().filter(l -> l.contains(secret))
                                            .findFirst().orElse(""));
                                }
                            }
                        }
                    }
                }
            }

            System.out.println("secrets sweep: " + cases + " (command, URL form, output) cases checked, "
                    + (leaks.isEmpty() ? "all clean" : leaks.size() + " leaks"));
            assertThat(alerts.bodies()).as("alerts were sent, so their bodies were checked").isNotEmpty();
            assertThat(ping.requests()).as("pings were sent").isNotEmpty();
            assertThat(push.requests()).as("metrics were pushed").isNotEmpty();
            assertThat(Query.value(db.db().dsl(), Integer.class, "SELECT count(*)::int FROM de_enrollment_lead_log"))
                    .as("the lead log was written").isPositive();
            assertThat(leaks).isEmpty();
        }
    }

    private static List<Form> forms(String host, int port, String database) {
        String uri = "postgres://postgres:" + PASSWORD + "@" + host + ":" + port + "/" + database;
        String unreachableUri = "postgres://postgres:" + PASSWORD + "@127.0.0.1:1/" + database;
        return List.of(
                new Form("postgres://user:pass@", Map.of("DATABASE_URL", uri), List.of()),
                new Form("jdbc password= parameter", Map.of("DATABASE_URL",
                        "jdbc:postgresql://" + host + ":" + port + "/" + database + "?user=postgres&password=" + PASSWORD), List.of()),
                new Form("PGPASSWORD", Map.of("PGHOST", host, "PGPORT", String.valueOf(port), "PGUSER", "postgres",
                        "PGDATABASE", database, "PGPASSWORD", PASSWORD), List.of()),
                new Form("--database-url=postgres://user:pass@", Map.of(), List.of("--database-url=" + uri)),
                new Form("unreachable postgres://user:pass@", Map.of("DATABASE_URL", unreachableUri), List.of()),
                new Form("unreachable jdbc password= parameter", Map.of("DATABASE_URL",
                        "jdbc:postgresql://127.0.0.1:1/" + database + "?user=postgres&password=" + PASSWORD), List.of()),
                new Form("unreachable PGPASSWORD", Map.of("PGHOST", "127.0.0.1", "PGPORT", "1", "PGUSER", "postgres",
                        "PGDATABASE", database, "PGPASSWORD", PASSWORD), List.of()),
                new Form("jdbc with user:pass@", Map.of("DATABASE_URL",
                        "jdbc:postgresql://postgres:" + PASSWORD + "@" + host + ":" + port + "/" + database), List.of()),
                new Form("malformed jdbc password= parameter", Map.of("DATABASE_URL",
                        "jdbc:postgresql://" + host + ":" + port + "?user=postgres&password=" + PASSWORD), List.of()),
                new Form("mistyped --databse-url=postgres://user:pass@", Map.of(), List.of("--databse-url=" + uri)),
                new Form("mistyped --databse-url postgres://user:pass@", Map.of(), List.of("--databse-url", uri)));
    }

    private static List<List<String>> commands(UUID lead) {
        return List.of(
                List.of("run"), List.of("run", "--dry-run"), List.of("--all-clients"), List.of("--health-check"),
                List.of("health-check"), List.of("health-check", "--stuck-warning", "0"), List.of("status"),
                List.of("pause", "--reason", "sweep"), List.of("resume"), List.of("migrate"),
                List.of("migrate-stuck-leads", "--dry-run"), List.of("verify"), List.of("reconcile-stats", "--dry-run"),
                List.of("report", "daily"), List.of("report", "weekly"), List.of("report", "indexes"),
                List.of("report", "lead", lead.toString()), List.of("explain", lead.toString()),
                List.of("explain", lead.toString(), "--output", "json"), List.of("backup", "--replace"),
                List.of("restore", "--from", "19990101"), List.of("rollback", "--to", "99"),
                List.of("cleanup", "--dry-run"));
    }

    /** What was sent, not where: the ping token belongs in the ping request's own path. */
    private static String bodies(HttpRecorder recorder, int from) {
        List<HttpRecorder.Request> requests = recorder.requests();
        StringBuilder text = new StringBuilder();
        for (HttpRecorder.Request r : requests.subList(from, requests.size())) {
            text.append(r.body()).append('\n');
        }
        return text.toString();
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
