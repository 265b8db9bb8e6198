package deenroll.engine;

import com.fasterxml.jackson.databind.JsonNode;
import deenroll.db.schema.tables.records.DeEnrollmentInvocationsRecord;
import deenroll.db.schema.tables.records.DeEnrollmentRunsRecord;
import deenroll.support.AlertReceiver;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.Query;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static deenroll.db.schema.Routines.deEnrollmentFinishInvocation;
import static deenroll.db.schema.Routines.deEnrollmentHeartbeat;
import static deenroll.db.schema.Routines.deEnrollmentStartRun;
import static deenroll.engine.EngineTestKit.describe;
import static deenroll.engine.EngineTestKit.json;
import static deenroll.engine.EngineTestKit.run;
import static deenroll.engine.InvocationKit.HOST;
import static deenroll.engine.InvocationKit.PID;
import static deenroll.engine.InvocationKit.begin;
import static deenroll.engine.InvocationKit.call;
import static deenroll.engine.InvocationKit.heartbeatAgo;
import static deenroll.engine.InvocationKit.invocation;
import static deenroll.engine.InvocationKit.runId;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * DESIGN §4 invariants 4 and 5: a run left `running` by a process that died is
 * closed as failed ("abandoned") by the next invocation, health-check or status;
 * a live one never is. Since 0027 a process is alive while its invocation's
 * heartbeat is younger than its lease, or while a batch of it holds the
 * invocation's lock (0028; its row before); a run of a tool before 0027 (no invocation row) while its
 * own heartbeat is younger than max(10 min, 2 x budget).
 */
@Tag("compat")
class AbandonedRunsTest {

    /** An invocation begun as the engine begins it, with its first client's run started (as its first batch does). */
    private static UUID invocationWithRun(DSLContext dsl, UUID client) {
        UUID invocation = UUID.randomUUID();
        assertThat(begin(dsl, invocation, 100, false)).isEqualTo("running");
        deEnrollmentStartRun(dsl.configuration(), runId(invocation, client), invocation, client, "scheduled",
                InvocationKit.BUDGET_MS, HOST, PID);
        return invocation;
    }

    /** A run row of a tool before 0027: no invocation row; started {@code startedAgo}, last heard of {@code heartbeatAgo}. */
    private static UUID legacyRunningRow(TestDatabase db, UUID client, String startedAgo, String heartbeatAgo, int budgetMs) {
        UUID id = UUID.randomUUID();
        db.sql("INSERT INTO de_enrollment_runs (id, invocation_id, client_id, run_at, run_type, status, heartbeat_at,"
                + " budget_ms, host, pid) VALUES ('" + id + "', '" + UUID.randomUUID() + "', '" + client + "', now() - "
                + startedAgo + ", 'scheduled', 'running', now() - " + heartbeatAgo + ", " + budgetMs + ", 'old-host', 77)");
        return id;
    }

    private static DeEnrollmentRunsRecord row(DSLContext dsl, UUID id) {
        return InvocationKit.run(dsl, id);
    }

    @Test
    void anInvocationSilentLongerThanItsLeaseIsClosedWithItsRunsAndLiveOnesAreLeftAlone() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated(); AlertReceiver alerts = new AlertReceiver()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            f.leads(client, f.campaign(client, 1), 1, 2);
            f.recount();
            // crashed an hour ago, five minutes into its run
            UUID crashed = invocationWithRun(dsl, client);
            db.sql("UPDATE de_enrollment_heartbeats SET heartbeat_at = now() - interval '1 hour'"
                    + " WHERE invocation_id = '" + crashed + "';"
                    + " UPDATE de_enrollment_runs SET run_at = now() - interval '65 minutes'"
                    + " WHERE invocation_id = '" + crashed + "'");
            // silent for a second: within its lease (90 s), so alive, whether or not its process is
            UUID recent = invocationWithRun(dsl, client);
            heartbeatAgo(dsl, recent, "interval '1 second'");
            // silent for five minutes, but a batch of it is in flight right now: it holds its invocation's lock
            UUID inFlight = invocationWithRun(dsl, client);
            heartbeatAgo(dsl, inFlight, "interval '5 minutes'");
            // a tool before 0027 that crashed an hour ago, five minutes into its run
            UUID legacyCrashed = legacyRunningRow(db, client, "interval '65 minutes'", "interval '1 hour'", 240_000);
            // a tool before 0027, quiet for an hour, but its own budget is two hours
            UUID legacyLongBudget = legacyRunningRow(db, client, "interval '1 hour'", "interval '1 hour'", 7_200_000);
            // a tool before 0027, quiet for a minute: under ten minutes, alive
            UUID legacyRecent = legacyRunningRow(db, client, "interval '2 minutes'", "interval '1 minute'", 240_000);

            Cli.Result result;
            try (Connection batch = DriverManager.getConnection(db.jdbcUrl())) {
                batch.setAutoCommit(false);
                try (PreparedStatement lock = batch.prepareStatement("SELECT de_enrollment_lock_invocation(?)")) {
                    lock.setObject(1, inFlight);
                    lock.executeQuery().close();
                }
                result = run(db, Map.of("DE_ENROLLMENT_ALERT_WEBHOOK", alerts.url()), "--output", "json");
                batch.rollback();
            }

            assertThat(result.exitCode()).as(describe(result)).isZero();
            DeEnrollmentRunsRecord closed = row(dsl, runId(crashed, client));
            assertThat(closed.getStatus()).isEqualTo("failed");
            assertThat(closed.getErrorDetails()).startsWith("abandoned: the process (" + HOST + " pid " + PID + ")");
            assertThat(closed.getFinishedAt()).isNotNull();
            assertThat(closed.getDurationMs()).as("duration up to the last heartbeat").isEqualTo(5 * 60 * 1000);
            DeEnrollmentInvocationsRecord closedInvocation = invocation(dsl, crashed);
            assertThat(closedInvocation.getStatus() + " " + closedInvocation.getStopReason()).isEqualTo("abandoned abandoned");
            assertThat(closedInvocation.getFinishedAt()).isNotNull();
            DeEnrollmentRunsRecord legacy = row(dsl, legacyCrashed);
            assertThat(legacy.getStatus()).isEqualTo("failed");
            assertThat(legacy.getErrorDetails()).startsWith("abandoned: the process (old-host pid 77)");
            assertThat(legacy.getDurationMs()).isEqualTo(5 * 60 * 1000);
            for (UUID live : List.of(recent, inFlight)) {
                DeEnrollmentRunsRecord untouched = row(dsl, runId(live, client));
                assertThat(untouched.getStatus()).as("status of the run of live invocation %s", live).isEqualTo("running");
                assertThat(untouched.getFinishedAt()).isNull();
                assertThat(untouched.getErrorDetails()).isNull();
                assertThat(invocation(dsl, live).getStatus()).as("live invocation %s", live).isEqualTo("running");
            }
            for (UUID live : List.of(legacyLongBudget, legacyRecent)) {
                assertThat(row(dsl, live).getStatus()).as("status of live run %s", live).isEqualTo("running");
            }
            JsonNode closedIds = json(result).get("abandonedRunsClosed");
            assertThat(closedIds).hasSize(2);
            assertThat(List.of(closedIds.get(0).asText(), closedIds.get(1).asText()))
                    .containsExactlyInAnyOrder(runId(crashed, client).toString(), legacyCrashed.toString());
            assertThat(alerts.bodies()).as("alerts").anySatisfy(body -> {
                JsonNode alert = json(body);
                assertThat(alert.get("message").asText()).contains("abandoned");
                assertThat(alert.get("details").get("runId").asText()).isEqualTo(runId(crashed, client).toString());
            });
            assertThat(f.eligible()).as("the run itself still de-enrolled Acme's leads").isZero();

            // closed once: the next invocation finds nothing more to close but the one whose batch
            // (the connection above) has ended meanwhile, its heartbeat still five minutes old
            Cli.Result next = run(db, "--output", "json");
            assertThat(next.exitCode()).as(describe(next)).isZero();
            assertThat(json(next).get("abandonedRunsClosed")).hasSize(1);
            assertThat(json(next).get("abandonedRunsClosed").get(0).asText()).isEqualTo(runId(inFlight, client).toString());
            assertThat(invocation(dsl, inFlight).getStatus()).isEqualTo("abandoned");
            Cli.Result third = run(db, "--output", "json");
            assertThat(json(third).get("abandonedRunsClosed")).isEmpty();
            assertThat(invocation(dsl, recent).getStatus()).isEqualTo("running");
        }
    }

    @Test
    void theHealthCheckClosesAnAbandonedRunAndWarnsAboutIt() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            f.recount();
            assertThat(run(db).exitCode()).isZero();
            // its process died two minutes ago: no heartbeat since, its lease (90 s) is over
            UUID dead = invocationWithRun(dsl, client);
            heartbeatAgo(dsl, dead, "interval '2 minutes'");
            UUID run = runId(dead, client);

            Cli.Result health = Cli.run(db, "health-check", "--output", "json");

            assertThat(row(dsl, run).getStatus()).isEqualTo("failed");
            assertThat(row(dsl, run).getErrorDetails()).startsWith("abandoned");
            assertThat(invocation(dsl, dead).getStatus()).isEqualTo("abandoned");
            assertThat(health.exitCode()).as(health.out()).isEqualTo(1);
            assertThat(health.out()).contains("abandoned").contains(run.toString());
        }
    }

    /**
     * The lease is the whole of liveness: the same invocation, with two runs
     * open, is alive with a heartbeat 80 s old and a lease of 90 s, and dead
     * (both runs closed at once) at 100 s. The process learns it at its next
     * beat, its next call and its closing; nothing it does then reopens a run.
     */
    @Test
    void anInvocationIsAliveWithinItsLeaseAndAllItsRunsAreClosedAtOnceAfter() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID acme = f.client("Acme");
            UUID beta = f.client("Beta");
            f.leads(acme, f.campaign(acme, 1), 1, 2);
            f.recount();
            UUID invocation = invocationWithRun(dsl, acme);
            deEnrollmentStartRun(dsl.configuration(), runId(invocation, beta), invocation, beta, "scheduled",
                    InvocationKit.BUDGET_MS, HOST, PID);
            heartbeatAgo(dsl, invocation, "interval '80 seconds'");
            Runs runs = new Runs(dsl);

            assertThat(runs.closeAbandoned()).as("closed within the lease").isEmpty();
            assertThat(invocation(dsl, invocation).getStatus()).isEqualTo("running");

            heartbeatAgo(dsl, invocation, "interval '100 seconds'");
            List<AbandonedRun> closed = runs.closeAbandoned();

            assertThat(closed).extracting(AbandonedRun::runId)
                    .containsExactlyInAnyOrder(runId(invocation, acme), runId(invocation, beta));
            assertThat(closed).allSatisfy(a -> {
                assertThat(a.invocationId()).isEqualTo(invocation);
                assertThat(a.host() + " " + a.pid()).isEqualTo(HOST + " " + PID);
            });
            assertThat(invocation(dsl, invocation).getStatus()).isEqualTo("abandoned");
            String closedRuns = Query.value(dsl, String.class, "SELECT string_agg(concat_ws(' ', id, status, finished_at,"
                    + " error_details), ',' ORDER BY id) FROM de_enrollment_runs");

            // the process comes back: its beat, its next call and its closing all say it was closed
            assertThat(deEnrollmentHeartbeat(dsl.configuration(), invocation)).isEqualTo("abandoned");
            assertThat(call(dsl, invocation, 60_000)).isEqualTo("closed");
            assertThat(deEnrollmentFinishInvocation(dsl.configuration(), invocation, "done", 100)).isEqualTo("abandoned");
            assertThat(Query.value(dsl, String.class, "SELECT string_agg(concat_ws(' ', id, status, finished_at,"
                    + " error_details), ',' ORDER BY id) FROM de_enrollment_runs")).isEqualTo(closedRuns);
            assertThat(f.eligible()).as("Acme's leads, left for the next run").isEqualTo(2);
            assertThat(runs.closeAbandoned()).as("closed once").isEmpty();
        }
    }

    /** 0027: closing a run never overwrites one another process closed already. */
    @Test
    void aRunAnotherProcessClosedIsNeverOverwrittenByFinishRun() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            UUID client = new Fixtures(dsl).client("Acme");
            UUID invocation = invocationWithRun(dsl, client);
            UUID run = runId(invocation, client);
            heartbeatAgo(dsl, invocation, "interval '1 hour'");
            assertThat(new Runs(dsl).closeAbandoned()).extracting(AbandonedRun::runId).containsExactly(run);
            DeEnrollmentRunsRecord failed = row(dsl, run);

            int updated = dsl.fetch("SELECT * FROM de_enrollment_finish_run({0}, 'success', NULL, 100)", DSL.val(run)).size();

            assertThat(updated).as("rows de_enrollment_finish_run closed").isZero();
            DeEnrollmentRunsRecord after = row(dsl, run);
            assertThat(after.getStatus()).isEqualTo("failed");
            assertThat(after.getErrorDetails()).isEqualTo(failed.getErrorDetails()).startsWith("abandoned");
            assertThat(after.getFinishedAt()).isEqualTo(failed.getFinishedAt());
            assertThat(after.getDurationMs()).isEqualTo(failed.getDurationMs());
            assertThat(after.getPeakMemoryMb()).isEqualTo(failed.getPeakMemoryMb());

            // nor a run closed by hand while its invocation is still running
            UUID live = invocationWithRun(dsl, client);
            db.sql("UPDATE de_enrollment_runs SET status = 'failed', finished_at = now(), error_details = 'closed by hand'"
                    + " WHERE id = '" + runId(live, client) + "'");
            assertThat(dsl.fetch("SELECT * FROM de_enrollment_finish_run({0}, 'partial', NULL, 100)",
                    DSL.val(runId(live, client)))).isEmpty();
            assertThat(deEnrollmentFinishInvocation(dsl.configuration(), live, "budget", 100)).isEqualTo("finished");
            assertThat(row(dsl, runId(live, client)).getStatus() + " " + row(dsl, runId(live, client)).getErrorDetails())
                    .isEqualTo("failed closed by hand");
        }
    }
}
