package deenroll.control;

import com.fasterxml.jackson.databind.JsonNode;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.Query;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `deenroll status`: the invocations running on the database, whichever host
 * runs them, as de_enrollment_invocations and de_enrollment_heartbeats say.
 * The rows are written by SQL, as a process on another host would leave them.
 */
class StatusCommandTest {

    private TestDatabase db;
    private UUID acme;
    private UUID beta;

    @BeforeEach
    void twoClients() {
        db = TestPostgres.get().migrated();
        Fixtures f = new Fixtures(db.db().dsl());
        acme = f.client("Acme");
        beta = f.client("Beta");
    }

    @AfterEach
    void drop() {
        db.close();
    }

    /** An invocation of Acme then Beta, at Acme (position 1), whose last beat was {@code heartbeatAge} ago. */
    private UUID invocation(String host, String heartbeatAge) {
        UUID id = UUID.randomUUID();
        db.sql("INSERT INTO de_enrollment_invocations (id, host, pid, run_type, batch_size, budget_ms, lease_ms,"
                + " client_ids, run_ids, position, started_at)"
                + " VALUES ('" + id + "', '" + host + "', 4242, 'scheduled', 100, 240000, 90000,"
                + " ARRAY['" + acme + "', '" + beta + "']::uuid[], ARRAY['" + UUID.randomUUID() + "', '"
                + UUID.randomUUID() + "']::uuid[], 1, now() - interval '1 minute');"
                + "INSERT INTO de_enrollment_heartbeats (invocation_id, heartbeat_at)"
                + " VALUES ('" + id + "', clock_timestamp() - interval '" + heartbeatAge + "')");
        return id;
    }

    /** Acme's run row of {@code invocation}, still running, as its first batch left it. */
    private UUID runningRun(UUID invocation) {
        UUID run = Query.value(db.db().dsl(), UUID.class, "SELECT run_ids[1] FROM de_enrollment_invocations WHERE id = ?",
                invocation);
        db.sql("INSERT INTO de_enrollment_runs (id, invocation_id, client_id, run_at, run_type, status, budget_ms,"
                + " host, pid, leads_de_enrolled)"
                + " VALUES ('" + run + "', '" + invocation + "', '" + acme + "', now() - interval '1 minute',"
                + " 'scheduled', 'running', 240000, 'worker-7', 4242, 12)");
        return run;
    }

    private String runStatus(UUID run) {
        return Query.value(db.db().dsl(), String.class, "SELECT status FROM de_enrollment_runs WHERE id = ?", run);
    }

    @Test
    void nothingRunningAndNotPaused() {
        Cli.Result text = Cli.run(db, "status");
        JsonNode json = Json.of(Cli.run(db, "status", "--output", "json"));

        assertThat(text.exitCode()).as("stderr: %s", text.err()).isZero();
        assertThat(text.out().lines().toList()).containsExactly("no invocation running", "not paused");
        assertThat(json.path("paused").isNull()).isTrue();
        assertThat(json.path("invocations").isArray()).isTrue();
        assertThat(json.path("invocations").size()).isZero();
        assertThat(json.path("abandonedClosed").asInt(-1)).isZero();
    }

    @Test
    void aRunningInvocationIsListedWithItsClientInFlightAndProgress() {
        UUID id = invocation("worker-7", "1 second");
        runningRun(id);

        Cli.Result r = Cli.run(db, "status", "--output", "json");

        assertThat(r.exitCode()).as("stderr: %s", r.err()).isZero();
        JsonNode doc = Json.of(r);
        assertThat(doc.path("abandonedClosed").asInt()).isZero();
        assertThat(doc.path("invocations").size()).isEqualTo(1);
        JsonNode inv = doc.path("invocations").get(0);
        assertThat(inv.path("invocationId").asText()).isEqualTo(id.toString());
        assertThat(inv.path("host").asText()).isEqualTo("worker-7");
        assertThat(inv.path("pid").asInt()).isEqualTo(4242);
        assertThat(inv.path("runType").asText()).isEqualTo("scheduled");
        assertThat(inv.path("startedAt").asText()).endsWith("Z");
        assertThat(inv.path("heartbeatAgeSeconds").isNumber()).isTrue();
        assertThat(inv.path("heartbeatAgeSeconds").asDouble()).isBetween(0.0, 30.0);
        assertThat(inv.path("leaseSeconds").asInt()).isEqualTo(90);
        assertThat(inv.path("clientInFlight").path("clientId").asText()).isEqualTo(acme.toString());
        assertThat(inv.path("clientInFlight").path("clientName").asText()).isEqualTo("Acme");
        assertThat(inv.path("clientsDone").asInt(-1)).isZero();
        assertThat(inv.path("clientsTotal").asInt()).isEqualTo(2);
        assertThat(inv.path("leadsDeEnrolled").asInt()).isEqualTo(12);
        assertThat(inv.size()).as("exactly the documented fields: %s", inv).isEqualTo(11);
    }

    @Test
    void textNamesHostPidClientAndProgressAndThePause() {
        UUID id = invocation("worker-7", "1 second");
        Cli.run(db, "pause", "--reason", "index rebuild");

        Cli.Result r = Cli.run(db, "status");

        assertThat(r.exitCode()).as("stderr: %s", r.err()).isZero();
        assertThat(r.out().lines().toList()).hasSize(2);
        assertThat(r.out().lines().findFirst().orElseThrow())
                .startsWith(id + " scheduled on worker-7 pid 4242, started ")
                .contains("client Acme (" + acme + ") in flight")
                .contains("0 of 2 client(s) done")
                .contains("0 lead(s) de-enrolled");
        assertThat(r.out().lines().skip(1).findFirst().orElseThrow())
                .startsWith("⏸ paused since ").contains(": index rebuild");
    }

    @Test
    void aDeadInvocationIsClosedWithItsRunAndNoLongerListed() {
        UUID dead = invocation("worker-1", "10 minutes");   // older than its 90 s lease
        UUID deadRun = runningRun(dead);
        UUID live = invocation("worker-2", "1 second");
        UUID liveRun = runningRun(live);

        JsonNode doc = Json.of(Cli.run(db, "status", "--output", "json"));

        assertThat(doc.path("abandonedClosed").asInt()).isEqualTo(1);
        assertThat(doc.path("invocations").findValuesAsText("invocationId")).containsExactly(live.toString());
        assertThat(runStatus(deadRun)).isEqualTo("failed");
        assertThat(Query.value(db.db().dsl(), String.class, "SELECT error_details FROM de_enrollment_runs WHERE id = ?", deadRun))
                .startsWith("abandoned:");
        assertThat(Query.value(db.db().dsl(), String.class, "SELECT status FROM de_enrollment_invocations WHERE id = ?", dead))
                .isEqualTo("abandoned");
        assertThat(runStatus(liveRun)).as("a live run is never closed").isEqualTo("running");

        JsonNode again = Json.of(Cli.run(db, "status", "--output", "json"));
        assertThat(again.path("abandonedClosed").asInt()).as("closed once").isZero();
    }
}
