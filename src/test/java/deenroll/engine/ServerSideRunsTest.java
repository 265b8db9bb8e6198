package deenroll.engine;

import deenroll.support.Fixtures;
import deenroll.support.Query;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * de_enrollment_run_clients (0024, 0026), the batches' loop inside PostgreSQL, called
 * the way the engine calls it: slices that resume where the last one stopped,
 * retries that redo nothing, and one client's failure kept to that client.
 */
@Tag("compat")
class ServerSideRunsTest {

    private static final String CALL = "CALL de_enrollment_run_clients(?::uuid, ?::uuid[], ?::uuid[], 'scheduled', 300000,"
            + " 'test-host', 1, 100, ?, ?, ?, ?, ?::uuid, ?::integer, ?::uuid)";
    private static final UUID INVOCATION = UUID.fromString("00000000-0000-0000-0000-0000000000aa");

    /** What a call returned: the client to work on next (1-based) and where its walk resumes. */
    private record Position(int client, UUID campaign, Integer position, UUID lead) {
        static final Position START = new Position(1, null, null, null);
    }

    /** A call's result: where it stopped, and the clients and runs in the order it left them (0026). */
    private record Slice(Position at, List<UUID> clients, List<UUID> runs, int deferred) {
    }

    private static Position call(Connection c, List<UUID> clients, List<UUID> runs, int batchSize, int sliceMs,
                                 Position from) throws SQLException {
        return slice(c, INVOCATION, clients, runs, batchSize, sliceMs, from, 0).at();
    }

    private static Slice slice(Connection c, UUID invocation, List<UUID> clients, List<UUID> runs, int batchSize,
                               int sliceMs, Position from, int deferred) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(CALL)) {
            s.setObject(1, invocation);
            s.setArray(2, c.createArrayOf("uuid", clients.toArray()));
            s.setArray(3, c.createArrayOf("uuid", runs.toArray()));
            s.setInt(4, batchSize);
            s.setInt(5, sliceMs);
            s.setInt(6, from.client());
            s.setInt(7, deferred);
            s.setObject(8, from.campaign());
            s.setObject(9, from.position());
            s.setObject(10, from.lead());
            try (ResultSet r = s.executeQuery()) {
                r.next();
                return new Slice(new Position(r.getInt("io_position"), r.getObject("io_after_campaign", UUID.class),
                        (Integer) r.getObject("io_after_position"), r.getObject("io_after_lead", UUID.class)),
                        List.of((UUID[]) r.getArray("io_client_ids").getArray()),
                        List.of((UUID[]) r.getArray("io_run_ids").getArray()), r.getInt("io_deferred"));
            }
        }
    }

    @Test
    void aCallWithNoTimeLeftDoesOneBatchAndTheNextResumesRightAfterIt() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated(); Connection c = DriverManager.getConnection(db.jdbcUrl())) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            UUID campaign = f.campaign(client, 2);
            f.leads(client, campaign, 2, 25);
            f.lead(client, campaign, 1);
            f.recount();
            List<UUID> run = List.of(UUID.randomUUID());

            List<Position> positions = new ArrayList<>();
            Position at = Position.START;
            while (at.client() == 1 && positions.size() < 10) {
                at = call(c, List.of(client), run, 10, 0, at);
                positions.add(at);
            }

            // 10 + 10 + 5: a slice of 0 ms still does one batch, and the short third batch ends the walk
            assertThat(positions).hasSize(3);
            assertThat(positions.get(0).campaign()).as("cursor after the first batch").isEqualTo(campaign);
            assertThat(positions.get(1).lead()).as("the second batch moved the cursor on")
                    .isNotEqualTo(positions.get(0).lead());
            assertThat(positions.get(2)).isEqualTo(new Position(2, null, null, null));
            assertThat(f.eligible()).isZero();
            assertThat(f.drift()).isZero();
            assertThat(Query.value(dsl, String.class, "SELECT status || ' ' || batches || ' ' || leads_de_enrolled"
                    + " FROM de_enrollment_runs WHERE id = ?", run.get(0))).isEqualTo("success 3 25");
            assertThat(Query.value(dsl, Integer.class, "SELECT count(*) FROM de_enrollment_lead_log"
                    + " WHERE action = 'de_enrolled'")).as("each lead logged once").isEqualTo(25);
        }
    }

    @Test
    void aRetriedCallSkipsTheRunsAnEarlierCallAlreadyClosed() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated(); Connection c = DriverManager.getConnection(db.jdbcUrl())) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            List<UUID> clients = new ArrayList<>();
            for (String name : List.of("Acme", "Beta")) {
                UUID client = f.client(name);
                f.leads(client, f.campaign(client, 1), 1, 3);
                clients.add(client);
            }
            f.recount();
            List<UUID> runs = List.of(UUID.randomUUID(), UUID.randomUUID());
            assertThat(call(c, clients, runs, 100, 60_000, Position.START).client()).isEqualTo(3);
            String before = Query.value(dsl, String.class, "SELECT string_agg(concat_ws(' ', id, status, batches,"
                    + " leads_de_enrolled, finished_at), ',' ORDER BY id) FROM de_enrollment_runs");

            // what a retry after a transient error does: the same call, from where the engine last knew
            Position again = call(c, clients, runs, 100, 60_000, Position.START);

            assertThat(again.client()).isEqualTo(3);
            assertThat(Query.value(dsl, String.class, "SELECT string_agg(concat_ws(' ', id, status, batches,"
                    + " leads_de_enrolled, finished_at), ',' ORDER BY id) FROM de_enrollment_runs")).isEqualTo(before);
            assertThat(Query.value(dsl, Integer.class, "SELECT count(*) FROM de_enrollment_lead_log")).isEqualTo(6);
        }
    }

    @Test
    void aClientWhoseBatchFailsIsClosedAsFailedAndTheNextClientStillRuns() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated(); Connection c = DriverManager.getConnection(db.jdbcUrl())) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID failing = f.client("Failing Co");
            UUID failingLead = f.lead(failing, f.campaign(failing, 1), 1);
            UUID healthy = f.client("Healthy Co");
            f.leads(healthy, f.campaign(healthy, 1), 1, 2);
            f.recount();
            // a failure outside the lead-by-lead isolation: the run row's own update
            db.sql("CREATE FUNCTION test_refuse_run() RETURNS trigger LANGUAGE plpgsql AS $$"
                    + " BEGIN RAISE EXCEPTION 'test: run row refused'; END $$;"
                    + " CREATE TRIGGER test_refuse_run BEFORE UPDATE ON de_enrollment_runs FOR EACH ROW"
                    + " WHEN (NEW.client_id = '" + failing + "' AND NEW.status = 'running')"
                    + " EXECUTE FUNCTION test_refuse_run();");
            List<UUID> runs = List.of(UUID.randomUUID(), UUID.randomUUID());

            Position end = call(c, List.of(failing, healthy), runs, 100, 60_000, Position.START);

            assertThat(end.client()).isEqualTo(3);
            assertThat(Query.value(dsl, String.class, "SELECT status || ' ' || leads_de_enrolled || ' ' || error_details"
                    + " FROM de_enrollment_runs WHERE id = ?", runs.get(0)))
                    .startsWith("failed 0 P0001: test: run row refused");
            assertThat(Query.value(dsl, Boolean.class, "SELECT is_active FROM leads WHERE id = ?", failingLead))
                    .as("the failed batch was rolled back").isTrue();
            assertThat(Query.value(dsl, String.class, "SELECT status || ' ' || leads_de_enrolled"
                    + " FROM de_enrollment_runs WHERE id = ?", runs.get(1))).isEqualTo("success 2");
            assertThat(f.drift()).isZero();
        }
    }

    /**
     * 0026: runners started together used to walk the clients in the same order
     * and queue on the same campaign rows. A client another invocation is
     * working on (its run row is 'running') moves to the end of the list, once;
     * at the end it is worked on like any other, so nothing waits and nothing
     * is left out. A client being started right now by another session (its
     * lock held) moves too.
     */
    @Test
    void aClientAnotherRunnerIsWorkingOnIsLeftForLastAndStillRun() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated(); Connection c = DriverManager.getConnection(db.jdbcUrl());
             Connection other = DriverManager.getConnection(db.jdbcUrl())) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            List<UUID> clients = new ArrayList<>();
            for (String name : List.of("Acme", "Beta", "Core", "Delta")) {
                UUID client = f.client(name);
                f.leads(client, f.campaign(client, 1), 1, 3);
                clients.add(client);
            }
            f.recount();
            UUID acme = clients.get(0);
            UUID beta = clients.get(1);
            UUID core = clients.get(2);
            UUID delta = clients.get(3);
            // another invocation is on Beta (its run is running) and is starting Core right now (holds its lock)
            db.sql("INSERT INTO de_enrollment_runs (id, invocation_id, client_id, run_type, status, budget_ms)"
                    + " VALUES ('" + UUID.randomUUID() + "', '" + UUID.randomUUID() + "', '" + beta + "', 'scheduled', 'running', 300000)");
            other.setAutoCommit(false);
            try (PreparedStatement lock = other.prepareStatement("SELECT pg_advisory_xact_lock(1684366702, hashtext(?))")) {
                lock.setString(1, core.toString());
                lock.executeQuery().close();
            }
            List<UUID> runs = List.of(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID());
            Map<UUID, UUID> runOf = new HashMap<>();
            for (int i = 0; i < clients.size(); i++) {
                runOf.put(clients.get(i), runs.get(i));
            }

            Slice done = slice(c, INVOCATION, clients, runs, 100, 60_000, Position.START, 0);
            other.rollback();

            // Beta and Core went behind Delta, once: at the end they were worked on like the others
            assertThat(done.clients()).containsExactly(acme, delta, beta, core);
            assertThat(done.runs()).containsExactly(runOf.get(acme), runOf.get(delta), runOf.get(beta), runOf.get(core));
            assertThat(done.deferred()).isEqualTo(2);
            assertThat(done.at().client()).isEqualTo(5);
            assertThat(Query.value(dsl, String.class, "SELECT string_agg(c.name, ' ' ORDER BY r.run_at, r.finished_at)"
                    + " FROM de_enrollment_runs r JOIN clients c ON c.id = r.client_id WHERE r.invocation_id = ?", INVOCATION))
                    .as("the order the runs were done in").isEqualTo("Acme Delta Beta Core");
            for (UUID client : clients) {
                assertThat(Query.value(dsl, String.class, "SELECT status || ' ' || leads_de_enrolled FROM de_enrollment_runs"
                        + " WHERE id = ?", runOf.get(client))).as("run of %s", client).isEqualTo("success 3");
            }
            assertThat(f.eligible()).isZero();
            assertThat(f.drift()).isZero();
        }
    }

    @Test
    void aBatchForARunThatIsNoLongerRunningIsRolledBack() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated(); Connection c = DriverManager.getConnection(db.jdbcUrl())) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            UUID lead = f.lead(client, f.campaign(client, 1), 1);
            f.recount();
            // closed as abandoned by another process while this one was cut off and kept going
            UUID run = UUID.randomUUID();
            db.sql("INSERT INTO de_enrollment_runs (id, invocation_id, client_id, run_type, status, budget_ms, finished_at)"
                    + " VALUES ('" + run + "', '" + INVOCATION + "', '" + client + "', 'scheduled', 'failed', 300000, now())");

            assertThatThrownBy(() -> {
                try (PreparedStatement s = c.prepareStatement("SELECT * FROM process_de_enrollment_batch(?::uuid, ?::uuid[])")) {
                    s.setObject(1, run);
                    s.setArray(2, c.createArrayOf("uuid", new Object[] {lead}));
                    s.executeQuery().close();
                }
            }).isInstanceOf(SQLException.class).hasMessageContaining("is not running");

            assertThat(Query.value(dsl, Boolean.class, "SELECT is_active FROM leads WHERE id = ?", lead)).isTrue();
            assertThat(Query.value(dsl, Integer.class, "SELECT count(*) FROM de_enrollment_lead_log")).isZero();
            assertThat(Query.value(dsl, Integer.class, "SELECT leads_de_enrolled FROM de_enrollment_runs WHERE id = ?", run))
                    .isZero();
            assertThat(f.drift()).isZero();
        }
    }
}
