package deenroll.ping;

import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.HttpRecorder;
import deenroll.support.Query;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * --ping-url, healthchecks.io's pinging API: URL/start when the run begins,
 * URL/<exit code> with a short log when it ends, whatever the end, both with
 * ?rid=<invocation id>; bodies within the self-hosted default limit of 10 kB.
 */
class DeadManSwitchTest {

    private static final String CHECK = "/ping/0b6f-check";

    @Test
    void aSuccessfulRunPingsStartThenZeroWithItsSummary() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated(); HttpRecorder hc = new HttpRecorder(200)) {
            Fixtures f = new Fixtures(db.db().dsl());
            UUID acme = f.client("Acme");
            f.leads(acme, f.campaign(acme, 1), 1, 2);
            f.recount();

            Cli.Result r = Cli.run(db, "run", "--ping-url", hc.url(CHECK));

            assertThat(r.exitCode()).isZero();
            assertThat(hc.requests()).extracting(HttpRecorder.Request::path).containsExactly(CHECK + "/start", CHECK + "/0");
            assertThat(hc.requests().get(1).body()).contains("2 de-enrolled").contains("Acme");
        }
    }

    @Test
    void bothPingsCarryTheInvocationIdAsTheRunId() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated(); HttpRecorder hc = new HttpRecorder(200)) {
            Fixtures f = new Fixtures(db.db().dsl());
            UUID acme = f.client("Acme");
            f.leads(acme, f.campaign(acme, 1), 1, 2);
            f.recount();

            Cli.Result r = Cli.run(db, "run", "--output", "json", "--ping-url", hc.url(CHECK));

            assertThat(r.exitCode()).as(r.err()).isZero();
            String invocation = new ObjectMapper().readTree(r.out()).path("invocationId").asText();
            assertThat(Query.value(db.db().dsl(), String.class, "SELECT string_agg(id::text, ',') FROM de_enrollment_invocations"))
                    .isEqualTo(invocation);
            assertThat(hc.requests()).extracting(HttpRecorder.Request::query)
                    .containsExactly("rid=" + invocation, "rid=" + invocation);
        }
    }

    @Test
    void aPingUrlWithAQueryStringGetsThePathBeforeIt() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated(); HttpRecorder hc = new HttpRecorder(200)) {
            Cli.Result r = Cli.run(db, "run", "--ping-url", hc.url("/ping/key/deenroll?create=1"));

            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(hc.requests()).extracting(HttpRecorder.Request::path)
                    .containsExactly("/ping/key/deenroll/start", "/ping/key/deenroll/0");
            assertThat(hc.requests()).extracting(HttpRecorder.Request::query).allSatisfy(q -> assertThat(q).startsWith("create=1&rid="));
        }
    }

    @Test
    void aLongLogIsCutToTenKilobytesBetweenCharacters() throws Exception {
        String log = "run summary\n" + "Zürich Dental ✅ 12 de-enrolled\n".repeat(1000);

        byte[] body = DeadManSwitch.body(log);

        assertThat(body.length).isLessThanOrEqualTo(10_000).isGreaterThan(9_900);
        String text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(body)).toString();
        assertThat(text).startsWith("run summary\nZürich Dental").endsWith("\n[cut to 10 kB]");
        assertThat(DeadManSwitch.body("short")).isEqualTo("short".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aFailedClientPingsItsExitCode() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated(); HttpRecorder hc = new HttpRecorder(200)) {
            Fixtures f = new Fixtures(db.db().dsl());
            UUID acme = f.client("Acme");
            f.leads(acme, f.campaign(acme, 1), 1, 2);
            f.recount();
            db.sql("CREATE FUNCTION test_fail() RETURNS trigger LANGUAGE plpgsql AS $$"
                    + " BEGIN RAISE EXCEPTION 'test: broken' USING ERRCODE = 'query_canceled'; END $$;"
                    + " CREATE TRIGGER test_fail AFTER UPDATE ON campaigns FOR EACH ROW EXECUTE FUNCTION test_fail();");

            Cli.Result r = Cli.run(db, Map.of("DE_ENROLLMENT_PING_URL", hc.url(CHECK + "/")), "run");

            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(hc.requests()).extracting(HttpRecorder.Request::path).containsExactly(CHECK + "/start", CHECK + "/1");
            assertThat(hc.requests().get(1).body()).contains("failed").contains("broken");
        }
    }

    @Test
    void anUnreachableDatabaseStillEndsWithItsExitCode() throws Exception {
        try (HttpRecorder hc = new HttpRecorder(200)) {
            Cli.Result r = Cli.run(Map.of("DATABASE_URL", "postgres://u:S3cretPw@127.0.0.1:1/db",
                    "DE_ENROLLMENT_PING_URL", hc.url(CHECK)), "run");

            assertThat(r.exitCode()).isEqualTo(4);
            assertThat(hc.requests()).extracting(HttpRecorder.Request::path).containsExactly(CHECK + "/start", CHECK + "/4");
            assertThat(hc.requests()).extracting(HttpRecorder.Request::query).doesNotContainNull()
                    .allSatisfy(q -> assertThat(q).isEqualTo(hc.requests().get(0).query()));
            assertThat(hc.requests().get(1).body()).contains("cannot connect").doesNotContain("S3cretPw");
        }
    }

    @Test
    void aPingServiceThatIsDownDoesNotChangeTheExitCode() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            assertThat(Cli.run(db, "run", "--ping-url", "http://127.0.0.1:1" + CHECK).exitCode()).isZero();
        }
    }

    @Test
    void aDryRunDoesNotPing() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated(); HttpRecorder hc = new HttpRecorder(200)) {
            assertThat(Cli.run(db, "run", "--dry-run", "--ping-url", hc.url(CHECK)).exitCode()).isZero();

            assertThat(hc.requests()).isEmpty();
        }
    }

    @Test
    void aBadPingUrlIsAUsageErrorBeforeAnything() throws Exception {
        Cli.Result r = Cli.run(Map.of("DE_ENROLLMENT_PING_URL", "hc-ping/abc"), "run");

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("deenroll: DE_ENROLLMENT_PING_URL: expected an http:// or https:// URL");
    }
}
