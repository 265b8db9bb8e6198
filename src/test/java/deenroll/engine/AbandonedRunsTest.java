package deenroll.engine;

import com.fasterxml.jackson.databind.JsonNode;
import deenroll.db.schema.tables.records.DeEnrollmentRunsRecord;
import deenroll.support.AlertReceiver;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static deenroll.db.schema.Tables.DE_ENROLLMENT_RUNS;
import static deenroll.engine.EngineTestKit.describe;
import static deenroll.engine.EngineTestKit.json;
import static deenroll.engine.EngineTestKit.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * DESIGN §4 invariant 4: a run row left `running` by a process that died is
 * closed as failed ("abandoned") by the next invocation; a live one is not.
 * A live process holds its invocation's advisory lock (a tool before 0024: its
 * run's); the test plays that process with a connection of its own.
 */
@Tag("compat")
class AbandonedRunsTest {

    @Test
    void aRunWithAStaleHeartbeatIsClosedAndLiveRunsAreLeftAlone() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated(); AlertReceiver alerts = new AlertReceiver()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            f.leads(client, f.campaign(client, 1), 1, 2);
            f.recount();
            // crashed an hour ago, five minutes into its run
            UUID crashed = runningRow(db, client, "interval '65 minutes'", "interval '1 hour'", 240_000);
            // killed (kill -9) a second ago: heartbeat fresh, but no session holds its lock any more
            UUID killed = runningRow(db, client, "interval '1 second'", "interval '1 second'", 240_000);
            // another copy of the job, working right now: its process holds the run's lock
            UUID live = runningRow(db, client, "interval '0 minutes'", "interval '0 minutes'", 240_000);
            // quiet for an hour, but its own budget is two hours and its process is alive
            UUID longBudget = runningRow(db, client, "interval '1 hour'", "interval '1 hour'", 7_200_000);

            Cli.Result result;
            try (Connection liveProcess = DriverManager.getConnection(db.jdbcUrl());
                 Statement lock = liveProcess.createStatement()) {
                for (UUID id : List.of(live, longBudget)) {
                    lock.execute("SELECT pg_advisory_lock(de_enrollment_run_lock_key('" + id + "'))");
                }
                result = run(db, Map.of("DE_ENROLLMENT_ALERT_WEBHOOK", alerts.url()), "--output", "json");
            }

            assertThat(result.exitCode()).as(describe(result)).isZero();
            DeEnrollmentRunsRecord closed = row(dsl, crashed);
            assertThat(closed.getStatus()).isEqualTo("failed");
            assertThat(closed.getErrorDetails()).contains("abandoned");
            assertThat(closed.getFinishedAt()).isNotNull();
            assertThat(closed.getDurationMs()).as("duration up to the last heartbeat").isEqualTo(5 * 60 * 1000);
            for (UUID id : List.of(live, longBudget)) {
                DeEnrollmentRunsRecord untouched = row(dsl, id);
                assertThat(untouched.getStatus()).as("status of live run %s", id).isEqualTo("running");
                assertThat(untouched.getFinishedAt()).isNull();
                assertThat(untouched.getErrorDetails()).isNull();
            }
            assertThat(row(dsl, killed).getStatus()).as("a run whose process is gone, at once").isEqualTo("failed");
            JsonNode closedIds = json(result).get("abandonedRunsClosed");
            assertThat(closedIds).hasSize(2);
            assertThat(List.of(closedIds.get(0).asText(), closedIds.get(1).asText()))
                    .containsExactlyInAnyOrder(crashed.toString(), killed.toString());
            assertThat(alerts.bodies()).as("alerts").anySatisfy(body -> {
                JsonNode alert = json(body);
                assertThat(alert.get("message").asText()).contains("abandoned");
                assertThat(alert.get("details").get("runId").asText()).isEqualTo(crashed.toString());
            });

            // closed once: the next invocation finds nothing more to close but the two whose
            // lock holder (the connection above) has gone meanwhile
            Cli.Result next = run(db, "--output", "json");
            assertThat(next.exitCode()).as(describe(next)).isZero();
            assertThat(json(next).get("abandonedRunsClosed")).hasSize(2);
            Cli.Result third = run(db, "--output", "json");
            assertThat(json(third).get("abandonedRunsClosed")).isEmpty();
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
            // its process is gone (nobody holds its lock), though its heartbeat is fresh
            UUID killed = runningRow(db, client, "interval '5 seconds'", "interval '1 second'", 240_000);

            Cli.Result health = Cli.run(db, "health-check", "--output", "json");

            assertThat(row(dsl, killed).getStatus()).isEqualTo("failed");
            assertThat(health.exitCode()).as(health.out()).isEqualTo(1);
            assertThat(health.out()).contains("abandoned").contains(killed.toString());
        }
    }

    @Test
    void aRunIsAliveWhileItsInvocationHoldsTheInvocationLock() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            UUID client = new Fixtures(dsl).client("Acme");
            UUID invocation = UUID.randomUUID();
            // two runs of one invocation (0024): the process holds one lock for both, none of their own
            UUID first = runningRow(db, client, invocation, "interval '2 seconds'", "interval '1 second'", 240_000);
            UUID second = runningRow(db, client, invocation, "interval '1 second'", "interval '1 second'", 240_000);

            try (Connection liveProcess = DriverManager.getConnection(db.jdbcUrl());
                 Statement lock = liveProcess.createStatement()) {
                lock.execute("SELECT pg_advisory_lock(de_enrollment_run_lock_key('" + invocation + "'))");

                Cli.Result whileAlive = run(db, "--output", "json");
                assertThat(whileAlive.exitCode()).as(describe(whileAlive)).isZero();
                assertThat(json(whileAlive).get("abandonedRunsClosed")).as("runs of a live invocation").isEmpty();
                assertThat(row(dsl, first).getStatus()).isEqualTo("running");
                assertThat(row(dsl, second).getStatus()).isEqualTo("running");
            }

            // the process is gone: both runs are abandoned at once
            Cli.Result after = run(db, "--output", "json");
            assertThat(json(after).get("abandonedRunsClosed")).hasSize(2);
            assertThat(row(dsl, first).getStatus()).isEqualTo("failed");
            assertThat(row(dsl, second).getStatus()).isEqualTo("failed");
        }
    }

    /** A run row left `running`, started {@code startedAgo} and last heard of {@code heartbeatAgo}. */
    private static UUID runningRow(TestDatabase db, UUID client, String startedAgo, String heartbeatAgo, int budgetMs) {
        return runningRow(db, client, UUID.randomUUID(), startedAgo, heartbeatAgo, budgetMs);
    }

    private static UUID runningRow(TestDatabase db, UUID client, UUID invocation, String startedAgo, String heartbeatAgo,
                                   int budgetMs) {
        UUID id = UUID.randomUUID();
        db.sql("INSERT INTO de_enrollment_runs (id, invocation_id, client_id, run_at, run_type, status, heartbeat_at,"
                + " budget_ms) VALUES ('" + id + "', '" + invocation + "', '" + client + "', now() - " + startedAgo
                + ", 'scheduled', 'running', now() - " + heartbeatAgo + ", " + budgetMs + ")");
        return id;
    }

    private static DeEnrollmentRunsRecord row(DSLContext dsl, UUID id) {
        return dsl.selectFrom(DE_ENROLLMENT_RUNS).where(DE_ENROLLMENT_RUNS.ID.eq(id)).fetchSingle();
    }
}
