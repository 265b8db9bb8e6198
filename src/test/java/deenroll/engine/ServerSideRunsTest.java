package deenroll.engine;

import deenroll.db.schema.tables.records.DeEnrollmentInvocationsRecord;
import deenroll.db.schema.tables.records.DeEnrollmentRunsRecord;
import deenroll.support.Fixtures;
import deenroll.support.Query;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.jooq.DSLContext;
import org.jooq.exception.DataAccessException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static deenroll.db.schema.Routines.deEnrollmentFailInFlight;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_INVOCATIONS;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_RUNS;
import static deenroll.engine.InvocationKit.begin;
import static deenroll.engine.InvocationKit.bulkLeads;
import static deenroll.engine.InvocationKit.call;
import static deenroll.engine.InvocationKit.client;
import static deenroll.engine.InvocationKit.heartbeatExists;
import static deenroll.engine.InvocationKit.invocation;
import static deenroll.engine.InvocationKit.otherInvocationOn;
import static deenroll.engine.InvocationKit.run;
import static deenroll.engine.InvocationKit.runId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * de_enrollment_run_invocation (0027, 0028), the batches' loop inside PostgreSQL,
 * called the way the engine calls it: the run rows and the invocation's row
 * (written by each call's last batch) say where the work stands, so a call
 * resumes where the last one stopped, a retried call redoes nothing, one client's failure stays
 * that client's, and a failure the caller gives up on is pinned on the client
 * in flight.
 */
@Tag("compat")
class ServerSideRunsTest {

    private static final UUID INVOCATION = UUID.fromString("00000000-0000-0000-0000-0000000000aa");

    /** Where a call left the invocation: its state and the row's position and cursor. */
    private record At(String state, int position, UUID campaign, Integer messagePosition, UUID lead) {
        static At of(String state, DeEnrollmentInvocationsRecord row) {
            return new At(state, row.getPosition(), row.getAfterCampaign(), row.getAfterPosition(), row.getAfterLead());
        }
    }

    /** The leads a run logged as de-enrolled, in the walk's order (campaign, position, lead, as PostgreSQL sorts them). */
    private static List<UUID> deEnrolledBy(DSLContext dsl, UUID run) {
        return dsl.fetch("SELECT g.lead_id FROM de_enrollment_lead_log g JOIN leads l ON l.id = g.lead_id"
                + " WHERE g.run_id = ? AND g.action = 'de_enrolled'"
                + " ORDER BY g.campaign_id, l.current_message_position, g.lead_id", run).getValues(0, UUID.class);
    }

    /** Every column of an invocation's row, arrays spelled out, to compare before and after. */
    private static String snapshot(DeEnrollmentInvocationsRecord row) {
        return row.intoList().stream().map(v -> v instanceof Object[] a ? Arrays.toString(a) : String.valueOf(v)).toList()
                .toString();
    }

    @Test
    void aCallWithNoTimeLeftDoesOneBatchAndTheNextResumesRightAfterIt() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            UUID campaign = f.campaign(client, 2);
            f.leads(client, campaign, 2, 25);
            f.lead(client, campaign, 1);
            f.recount();
            assertThat(begin(dsl, INVOCATION, 10, false)).isEqualTo("running");
            UUID run = runId(INVOCATION, client);

            List<At> calls = new ArrayList<>();
            List<List<UUID>> doneAfter = new ArrayList<>();
            String state = "working";
            while (state.equals("working") && calls.size() < 10) {
                state = call(dsl, INVOCATION, 0);
                calls.add(At.of(state, invocation(dsl, INVOCATION)));
                doneAfter.add(deEnrolledBy(dsl, run));
            }

            // 10 + 10 + 5: a slice of 0 ms still does one batch, and the short third batch ends the walk
            assertThat(calls).extracting(At::state).containsExactly("working", "working", "done");
            assertThat(doneAfter).extracting(List::size).as("leads de-enrolled after each call").containsExactly(10, 20, 25);
            // the row's cursor is the last lead of the batch just committed, and the next call starts right after it
            List<UUID> all = doneAfter.get(2);
            assertThat(doneAfter.get(1).subList(0, 10)).as("the first call's leads come first in the walk")
                    .isEqualTo(doneAfter.get(0));
            assertThat(calls.get(0)).isEqualTo(new At("working", 1, campaign, 2, all.get(9)));
            assertThat(calls.get(1)).isEqualTo(new At("working", 1, campaign, 2, all.get(19)));
            assertThat(calls.get(2)).as("walk over: the next client, from the top").isEqualTo(new At("done", 2, null, null, null));
            assertThat(f.eligible()).isZero();
            assertThat(f.drift()).isZero();
            assertThat(Query.value(dsl, String.class, "SELECT status || ' ' || batches || ' ' || leads_de_enrolled"
                    + " FROM de_enrollment_runs WHERE id = ?", run)).isEqualTo("success 3 25");
            assertThat(Query.value(dsl, Integer.class, "SELECT count(*) FROM de_enrollment_lead_log"
                    + " WHERE action = 'de_enrolled'")).as("each lead logged once").isEqualTo(25);
            assertThat(call(dsl, INVOCATION, 0)).as("a call once every client is done").isEqualTo("done");
            assertThat(Query.value(dsl, Integer.class, "SELECT batches FROM de_enrollment_runs WHERE id = ?", run))
                    .as("batches after a call with nothing left").isEqualTo(3);
        }
    }

    @Test
    void aRetriedCallSkipsTheRunsAnEarlierCallAlreadyClosed() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            for (String name : List.of("Acme", "Beta")) {
                UUID client = f.client(name);
                f.leads(client, f.campaign(client, 1), 1, 3);
            }
            f.recount();
            begin(dsl, INVOCATION, 100, false);
            assertThat(call(dsl, INVOCATION, 60_000)).isEqualTo("done");
            String before = Query.value(dsl, String.class, "SELECT string_agg(concat_ws(' ', id, status, batches,"
                    + " leads_de_enrolled, finished_at), ',' ORDER BY id) FROM de_enrollment_runs");
            String rowBefore = snapshot(invocation(dsl, INVOCATION));

            // what a retry after a transient error does: the same call, on the same invocation
            assertThat(call(dsl, INVOCATION, 60_000)).isEqualTo("done");

            assertThat(Query.value(dsl, String.class, "SELECT string_agg(concat_ws(' ', id, status, batches,"
                    + " leads_de_enrolled, finished_at), ',' ORDER BY id) FROM de_enrollment_runs")).isEqualTo(before);
            assertThat(snapshot(invocation(dsl, INVOCATION))).as("the invocation's row").isEqualTo(rowBefore);
            assertThat(invocation(dsl, INVOCATION).getPosition()).isEqualTo(3);
            assertThat(Query.value(dsl, Integer.class, "SELECT count(*) FROM de_enrollment_lead_log")).isEqualTo(6);
        }
    }

    /** A run closed by someone else while the invocation is at its client: the next call moves on without touching it. */
    @Test
    void aCallAtAClientWhoseRunWasClosedMeanwhileMovesOnToTheNext() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID acme = client(dsl, 1, "Acme");
            UUID beta = client(dsl, 2, "Beta");
            f.leads(acme, f.campaign(acme, 1), 1, 3);
            f.leads(beta, f.campaign(beta, 1), 1, 3);
            f.recount();
            begin(dsl, INVOCATION, 1, false);
            assertThat(call(dsl, INVOCATION, 0)).isEqualTo("working");
            UUID acmeRun = runId(INVOCATION, acme);
            db.sql("UPDATE de_enrollment_runs SET status = 'failed', finished_at = now(), error_details = 'closed by hand'"
                    + " WHERE id = '" + acmeRun + "'");

            String state = call(dsl, INVOCATION, 60_000);

            assertThat(state).isEqualTo("done");
            DeEnrollmentRunsRecord closed = run(dsl, acmeRun);
            assertThat(closed.getStatus() + " " + closed.getBatches() + " " + closed.getErrorDetails())
                    .isEqualTo("failed 1 closed by hand");
            assertThat(run(dsl, runId(INVOCATION, beta)).getStatus()).isEqualTo("success");
            assertThat(Query.value(dsl, Integer.class, "SELECT count(*) FROM de_enrollment_eligible_leads"
                    + " WHERE client_id = ?", acme)).as("Acme's leads after its closed run's first batch").isEqualTo(2);
            assertThat(invocation(dsl, INVOCATION).getPosition()).isEqualTo(3);
            assertThat(f.drift()).isZero();
        }
    }

    @Test
    void aClientWhoseBatchFailsIsClosedAsFailedAndTheNextClientStillRuns() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID failing = client(dsl, 1, "Failing Co");
            UUID failingLead = f.lead(failing, f.campaign(failing, 1), 1);
            UUID healthy = client(dsl, 2, "Healthy Co");
            f.leads(healthy, f.campaign(healthy, 1), 1, 2);
            f.recount();
            // a failure outside the lead-by-lead isolation: the run row's own update
            db.sql("CREATE FUNCTION test_refuse_run() RETURNS trigger LANGUAGE plpgsql AS $$"
                    + " BEGIN RAISE EXCEPTION 'test: run row refused'; END $$;"
                    + " CREATE TRIGGER test_refuse_run BEFORE UPDATE ON de_enrollment_runs FOR EACH ROW"
                    + " WHEN (NEW.client_id = '" + failing + "' AND NEW.status = 'running')"
                    + " EXECUTE FUNCTION test_refuse_run();");
            begin(dsl, INVOCATION, 100, false);
            assertThat(InvocationKit.clients(dsl, INVOCATION)).containsExactly(failing, healthy);

            assertThat(call(dsl, INVOCATION, 60_000)).isEqualTo("done");

            assertThat(invocation(dsl, INVOCATION).getPosition()).isEqualTo(3);
            assertThat(Query.value(dsl, String.class, "SELECT status || ' ' || leads_de_enrolled || ' ' || error_details"
                    + " FROM de_enrollment_runs WHERE id = ?", runId(INVOCATION, failing)))
                    .startsWith("failed 0 P0001: test: run row refused");
            assertThat(Query.value(dsl, Boolean.class, "SELECT is_active FROM leads WHERE id = ?", failingLead))
                    .as("the failed batch was rolled back").isTrue();
            assertThat(Query.value(dsl, Integer.class, "SELECT count(*) FROM de_enrollment_lead_log WHERE client_id = ?",
                    failing)).as("lead log rows of the failed client").isZero();
            assertThat(Query.value(dsl, String.class, "SELECT status || ' ' || leads_de_enrolled"
                    + " FROM de_enrollment_runs WHERE id = ?", runId(INVOCATION, healthy))).isEqualTo("success 2");
            assertThat(f.drift()).isZero();
        }
    }

    /**
     * 0026: runners started together used to walk the clients in the same order
     * and queue on the same campaign rows. A client another invocation is
     * working on (its run row is 'running') moves to the end of the list, once;
     * at the end it is worked on like any other, so nothing waits and nothing
     * is left out. A client being started right now by another transaction (its
     * transaction-level lock held) moves too.
     */
    @Test
    void aClientAnotherRunnerIsWorkingOnIsLeftForLastAndStillRun() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated(); Connection other = DriverManager.getConnection(db.jdbcUrl())) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID acme = client(dsl, 1, "Acme");
            UUID beta = client(dsl, 2, "Beta");
            UUID core = client(dsl, 3, "Core");
            UUID delta = client(dsl, 4, "Delta");
            for (UUID client : List.of(acme, beta, core, delta)) {
                f.leads(client, f.campaign(client, 1), 1, 3);
            }
            f.recount();
            begin(dsl, INVOCATION, 100, false);
            assertThat(InvocationKit.clients(dsl, INVOCATION)).containsExactly(acme, beta, core, delta);
            // another invocation is on Beta (its run is running) and is starting Core right now (holds its lock)
            InvocationKit.Other onBeta = otherInvocationOn(dsl, beta, "interval '1 second'", 90_000, "interval '1 minute'");
            other.setAutoCommit(false);
            try (PreparedStatement lock = other.prepareStatement("SELECT pg_advisory_xact_lock(1684366702, hashtext(?))")) {
                lock.setString(1, core.toString());
                lock.executeQuery().close();
            }

            String state = call(dsl, INVOCATION, 60_000);
            other.rollback();

            assertThat(state).isEqualTo("done");
            DeEnrollmentInvocationsRecord row = invocation(dsl, INVOCATION);
            // Beta and Core went behind Delta, once: at the end they were worked on like the others
            assertThat(row.getClientIds()).containsExactly(acme, delta, beta, core);
            assertThat(row.getRunIds()).containsExactly(runId(INVOCATION, acme), runId(INVOCATION, delta),
                    runId(INVOCATION, beta), runId(INVOCATION, core));
            assertThat(row.getDeferred()).isEqualTo(2);
            assertThat(row.getPosition()).isEqualTo(5);
            assertThat(Query.value(dsl, String.class, "SELECT string_agg(c.name, ' ' ORDER BY r.run_at, r.finished_at)"
                    + " FROM de_enrollment_runs r JOIN clients c ON c.id = r.client_id WHERE r.invocation_id = ?", INVOCATION))
                    .as("the order the runs were done in").isEqualTo("Acme Delta Beta Core");
            for (UUID client : List.of(acme, beta, core, delta)) {
                assertThat(Query.value(dsl, String.class, "SELECT status || ' ' || leads_de_enrolled FROM de_enrollment_runs"
                        + " WHERE id = ?", runId(INVOCATION, client))).as("run of %s", client).isEqualTo("success 3");
            }
            assertThat(run(dsl, onBeta.run()).getStatus()).as("the other invocation's run").isEqualTo("running");
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
            }).isInstanceOf(SQLException.class).hasMessageContaining("is not running")
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("55000"));

            assertThat(Query.value(dsl, Boolean.class, "SELECT is_active FROM leads WHERE id = ?", lead)).isTrue();
            assertThat(Query.value(dsl, Integer.class, "SELECT count(*) FROM de_enrollment_lead_log")).isZero();
            assertThat(Query.value(dsl, Integer.class, "SELECT leads_de_enrolled FROM de_enrollment_runs WHERE id = ?", run))
                    .isZero();
            assertThat(f.drift()).isZero();
        }
    }

    /**
     * A pause (de_enrollment_pause) is seen before every batch: the next call
     * returns 'paused' without starting anything; a new invocation is not even
     * recorded unless it ignores the pause.
     */
    @Test
    void aPauseStopsTheNextCallAndKeepsNewInvocationsFromStarting() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID acme = client(dsl, 1, "Acme");
            UUID beta = client(dsl, 2, "Beta");
            f.leads(acme, f.campaign(acme, 1), 1, 3);
            f.leads(beta, f.campaign(beta, 1), 1, 3);
            f.recount();
            begin(dsl, INVOCATION, 1, false);
            assertThat(call(dsl, INVOCATION, 0)).isEqualTo("working");
            String before = snapshot(invocation(dsl, INVOCATION));
            String runsBefore = Query.value(dsl, String.class, "SELECT string_agg(concat_ws(' ', id, status, batches,"
                    + " leads_de_enrolled), ',' ORDER BY id) FROM de_enrollment_runs");

            db.sql("SELECT * FROM de_enrollment_pause('test', 'why')");

            assertThat(call(dsl, INVOCATION, 60_000)).isEqualTo("paused");
            assertThat(snapshot(invocation(dsl, INVOCATION))).as("the invocation's row").isEqualTo(before);
            assertThat(Query.value(dsl, String.class, "SELECT string_agg(concat_ws(' ', id, status, batches,"
                    + " leads_de_enrolled), ',' ORDER BY id) FROM de_enrollment_runs")).isEqualTo(runsBefore);
            assertThat(dsl.fetchCount(DE_ENROLLMENT_RUNS)).as("runs: Acme's only, Beta not started").isEqualTo(1);
            assertThat(Query.value(dsl, Integer.class, "SELECT count(*) FROM de_enrollment_lead_log")).isEqualTo(1);

            UUID blocked = UUID.randomUUID();
            assertThat(begin(dsl, blocked, 100, false)).isEqualTo("paused");
            assertThat(invocation(dsl, blocked)).as("invocation row of a begin refused by the pause").isNull();
            assertThat(heartbeatExists(dsl, blocked)).as("its heartbeat").isFalse();
            assertThat(dsl.fetchCount(DE_ENROLLMENT_INVOCATIONS)).isEqualTo(1);

            // an operator's explicit choice: it runs through the pause
            UUID forced = UUID.randomUUID();
            assertThat(begin(dsl, forced, 100, true)).isEqualTo("running");
            assertThat(invocation(dsl, forced).getIgnorePause()).isTrue();
            assertThat(heartbeatExists(dsl, forced)).isTrue();
            assertThat(call(dsl, forced, 60_000)).isEqualTo("done");
            assertThat(run(dsl, runId(forced, beta)).getStatus()).isEqualTo("success");
            assertThat(call(dsl, INVOCATION, 60_000)).as("the paused invocation, still").isEqualTo("paused");

            db.sql("SELECT * FROM de_enrollment_resume('test')");
            assertThat(call(dsl, INVOCATION, 60_000)).as("after resume").isEqualTo("done");
            assertThat(f.eligible()).isZero();
            assertThat(f.drift()).isZero();
        }
    }

    /**
     * Acme is deferred (another invocation is on it), so Beta comes first; Beta's
     * batch then fails with a retryable error until the caller gives up. The
     * failure is Beta's: before 0027 the engine re-derived the client in flight
     * from the run rows and could blame Acme, the deferred one.
     */
    @Test
    void aFailureAfterADeferralIsAttributedToTheRightClient() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID acme = client(dsl, 1, "Acme");
            UUID beta = client(dsl, 2, "Beta");
            f.leads(acme, f.campaign(acme, 1), 1, 3);
            f.leads(beta, f.campaign(beta, 1), 1, 3);
            f.recount();
            begin(dsl, INVOCATION, 100, false);
            assertThat(InvocationKit.clients(dsl, INVOCATION)).containsExactly(acme, beta);
            // another invocation started on Acme meanwhile
            InvocationKit.Other onAcme = otherInvocationOn(dsl, acme, "interval '1 second'", 90_000, "interval '1 minute'");
            // every batch of Beta loses a race: lock_not_available, which PL/pgSQL re-raises for the caller to retry
            db.sql("CREATE FUNCTION test_busy() RETURNS trigger LANGUAGE plpgsql AS $$"
                    + " BEGIN RAISE EXCEPTION 'test: lead is busy' USING ERRCODE = 'lock_not_available'; END $$;"
                    + " CREATE TRIGGER test_busy BEFORE UPDATE ON leads FOR EACH ROW"
                    + " WHEN (NEW.client_id = '" + beta + "') EXECUTE FUNCTION test_busy();");

            for (int attempt = 1; attempt <= Retries.CONFLICT_ATTEMPTS; attempt++) {
                assertThatThrownBy(() -> call(dsl, INVOCATION, 60_000)).as("attempt %d", attempt)
                        .isInstanceOf(DataAccessException.class)
                        .satisfies(e -> assertThat(((DataAccessException) e).sqlState()).isEqualTo("55P03"));
            }
            DeEnrollmentInvocationsRecord row = invocation(dsl, INVOCATION);
            assertThat(row.getClientIds()).as("Acme deferred, once").containsExactly(beta, acme);
            assertThat(row.getDeferred()).isEqualTo(1);
            assertThat(row.getPosition()).as("Beta in flight").isEqualTo(1);
            assertThat(run(dsl, runId(INVOCATION, beta))).as("Beta's run: its failed first batch took it along").isNull();

            // what the engine does when it gives up on the client in flight
            UUID failed = deEnrollmentFailInFlight(dsl.configuration(), INVOCATION, "55P03: test: lead is busy", 100);

            assertThat(failed).isEqualTo(runId(INVOCATION, beta));
            DeEnrollmentRunsRecord betaRun = run(dsl, failed);
            assertThat(betaRun.getClientId()).isEqualTo(beta);
            assertThat(betaRun.getStatus() + " " + betaRun.getErrorDetails()).isEqualTo("failed 55P03: test: lead is busy");
            assertThat(run(dsl, runId(INVOCATION, acme))).as("Acme's run, not started yet").isNull();
            assertThat(invocation(dsl, INVOCATION).getPosition()).isEqualTo(2);

            assertThat(call(dsl, INVOCATION, 60_000)).isEqualTo("done");

            DeEnrollmentRunsRecord acmeRun = run(dsl, runId(INVOCATION, acme));
            assertThat(acmeRun.getStatus() + " " + acmeRun.getLeadsDeEnrolled() + " " + acmeRun.getErrorDetails())
                    .as("Acme's run, after the deferral").isEqualTo("success 3 null");
            assertThat(run(dsl, onAcme.run()).getStatus()).as("the other invocation's run of Acme").isEqualTo("running");
            assertThat(run(dsl, failed).getStatus()).as("Beta's run, once more").isEqualTo("failed");
            assertThat(Query.value(dsl, Integer.class, "SELECT count(*) FROM de_enrollment_eligible_leads WHERE client_id = ?",
                    beta)).as("Beta's leads, untouched").isEqualTo(3);
            assertThat(Query.value(dsl, Integer.class, "SELECT count(*) FROM de_enrollment_eligible_leads WHERE client_id = ?",
                    acme)).isZero();
            assertThat(f.drift()).isZero();
        }
    }

    /**
     * A batch writes nothing to its invocation's row (0028): over three clients one call updates the row
     * once, at its end. A trigger the test installs counts the updates.
     */
    @Test
    void aCallWritesTheInvocationsRowOnceNotOnceABatch() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            for (int n = 1; n <= 3; n++) {
                UUID client = client(dsl, n, "Client " + n);
                f.leads(client, f.campaign(client, 1), 1, 25);
            }
            f.recount();
            begin(dsl, INVOCATION, 10, false);
            db.sql("CREATE TABLE test_row_writes (at timestamptz);"
                    + " CREATE FUNCTION test_count_write() RETURNS trigger LANGUAGE plpgsql AS $$"
                    + " BEGIN INSERT INTO test_row_writes VALUES (clock_timestamp()); RETURN NEW; END $$;"
                    + " CREATE TRIGGER test_count_write AFTER UPDATE ON de_enrollment_invocations"
                    + " FOR EACH ROW EXECUTE FUNCTION test_count_write();");

            assertThat(call(dsl, INVOCATION, 60_000)).isEqualTo("done");

            // 0030: a transaction with room left goes on with the next client, so Client 2's first batch (5 leads)
            // shares Client 1's last transaction, and its walk of 25 ends with an empty batch, which Client 3's
            // first one follows in the same transaction: 3 + 4 + 3 batches in 8 transactions
            assertThat(Query.value(dsl, Integer.class, "SELECT sum(batches)::int FROM de_enrollment_runs"
                    + " WHERE invocation_id = ?", INVOCATION)).as("batches: 10 + 10 + 5, 5 + 10 + 10 + 0, 10 + 10 + 5")
                    .isEqualTo(10);
            assertThat(Query.value(dsl, Integer.class, "SELECT count(*) FROM test_row_writes")).as("writes of the row")
                    .isEqualTo(1);
            assertThat(invocation(dsl, INVOCATION).getPosition()).isEqualTo(4);
            assertThat(f.eligible()).isZero();
        }
    }

    /**
     * The row's position may lag behind the runs (a call that failed after closing some clients had not
     * written it yet): the client in flight is still the first one whose run is not closed, for the next
     * call, for the status view, and for the failure the engine pins on it.
     */
    @Test
    void aPositionLeftBehindIsCaughtUpFromTheRuns() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID acme = client(dsl, 1, "Acme");
            UUID beta = client(dsl, 2, "Beta");
            UUID core = client(dsl, 3, "Core");
            // 60 leads each, batches of 100: no two of them fit in one transaction's batch together,
            // so each call (a slice of 0: one transaction) closes one client
            for (UUID client : List.of(acme, beta, core)) {
                f.leads(client, f.campaign(client, 1), 1, 60);
            }
            f.recount();
            begin(dsl, INVOCATION, 100, false);
            assertThat(call(dsl, INVOCATION, 0)).isEqualTo("working");
            assertThat(call(dsl, INVOCATION, 0)).isEqualTo("working");
            String runsBefore = Query.value(dsl, String.class, "SELECT string_agg(concat_ws(' ', id, status, batches,"
                    + " finished_at), ',' ORDER BY id) FROM de_enrollment_runs");
            // as if the call that closed Acme and Beta had failed before its last batch wrote the row
            db.sql("UPDATE de_enrollment_invocations SET position = 1 WHERE id = '" + INVOCATION + "'");

            assertThat(Query.value(dsl, Integer.class, "SELECT de_enrollment_invocation_position(?)", INVOCATION))
                    .isEqualTo(3);
            assertThat(Query.value(dsl, String.class, "SELECT client_in_flight_name || ' ' || clients_done"
                    + " FROM de_enrollment_live_invocations WHERE invocation_id = ?", INVOCATION)).isEqualTo("Core 2");
            assertThat(Query.value(dsl, String.class, "SELECT client_position || ' ' || batches"
                    + " FROM de_enrollment_invocation_progress(?)", INVOCATION)).isEqualTo("3 0");

            UUID failed = deEnrollmentFailInFlight(dsl.configuration(), INVOCATION, "55P03: test", 100);

            assertThat(failed).as("the client in flight is Core, not Acme").isEqualTo(runId(INVOCATION, core));
            assertThat(Query.value(dsl, String.class, "SELECT string_agg(concat_ws(' ', id, status, batches,"
                    + " finished_at), ',' ORDER BY id) FROM de_enrollment_runs WHERE id <> ?", failed))
                    .as("Acme's and Beta's runs, untouched").isEqualTo(runsBefore);
            assertThat(invocation(dsl, INVOCATION).getPosition()).isEqualTo(4);
            assertThat(call(dsl, INVOCATION, 60_000)).isEqualTo("done");
            assertThat(Query.value(dsl, Integer.class, "SELECT count(*) FROM de_enrollment_lead_log"
                    + " WHERE action = 'de_enrolled'")).as("each lead logged once").isEqualTo(120);
        }
    }

    /**
     * The same through the engine, with a real lock timeout: a host transaction
     * holds Beta's campaign row, so every batch of Beta gives up after the
     * database's lock_timeout (55P03). The engine tries {@link Retries#CONFLICT_ATTEMPTS}
     * times, then fails the client in flight, Beta, and goes on: Acme, deferred
     * because another live invocation was on it, still gets its run.
     */
    @Test
    void theEngineGivingUpFailsTheClientInFlightNotTheDeferredOne() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated(); Connection host = DriverManager.getConnection(db.jdbcUrl())) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID acme = f.client("Acme");
            UUID beta = f.client("Beta");
            f.leads(acme, f.campaign(acme, 1), 1, 3);
            UUID betaCampaign = f.campaign(beta, 1);
            f.leads(beta, betaCampaign, 1, 3);
            f.recount();
            // least recently run first: Acme (its run of another invocation began three days ago), then Beta
            db.sql("INSERT INTO de_enrollment_runs (id, invocation_id, client_id, run_type, status, budget_ms, run_at,"
                    + " heartbeat_at, finished_at) VALUES ('" + UUID.randomUUID() + "', '" + UUID.randomUUID() + "', '"
                    + beta + "', 'scheduled', 'success', 300000, now() - interval '2 days', now() - interval '2 days',"
                    + " now() - interval '2 days')");
            InvocationKit.Other onAcme = otherInvocationOn(dsl, acme, "interval '1 second'", 90_000, "interval '3 days'");
            db.sql("ALTER DATABASE " + db.name() + " SET lock_timeout = '300ms'");
            host.setAutoCommit(false);
            try (PreparedStatement lock = host.prepareStatement("SELECT id FROM campaigns WHERE id = ? FOR UPDATE")) {
                lock.setObject(1, betaCampaign);
                lock.executeQuery().close();
            }

            Invocation inv;
            try (deenroll.db.Database own = deenroll.db.Database.open(db.target(), java.time.Duration.ofSeconds(10),
                    java.time.Duration.ofMinutes(5))) {
                inv = Engine.on(own, deenroll.alert.AlertSink.NONE, java.time.Clock.systemUTC(), new StopSignal())
                        .run(new RunRequest(java.util.Optional.empty(), RunType.SCHEDULED, 100, java.time.Duration.ofMinutes(2),
                                java.time.Duration.ofSeconds(90), false, false));
            }
            host.rollback();

            assertThat(inv.stopReason()).isEqualTo(StopReason.DONE);
            assertThat(inv.status()).isEqualTo(InvocationStatus.FAILED);
            assertThat(inv.clients()).extracting(c -> c.clientName() + " " + c.status() + " " + c.counts().deEnrolled())
                    .as("the runs in the order they were done").containsExactly("Beta FAILED 0", "Acme SUCCESS 3");
            assertThat(inv.clients().get(0).error()).as("Beta's error").contains("55P03");
            assertThat(inv.clients().get(1).error()).as("Acme's error").isNull();
            DeEnrollmentInvocationsRecord row = invocation(dsl, inv.invocationId());
            assertThat(row.getClientIds()).containsExactly(beta, acme);
            assertThat(row.getDeferred()).isEqualTo(1);
            assertThat(run(dsl, onAcme.run()).getStatus()).isEqualTo("running");
            assertThat(Query.value(dsl, Integer.class, "SELECT count(*) FROM de_enrollment_eligible_leads WHERE client_id = ?",
                    beta)).as("Beta's leads, left for the next run").isEqualTo(3);
            assertThat(Query.value(dsl, Integer.class, "SELECT count(*) FROM de_enrollment_eligible_leads WHERE client_id = ?",
                    acme)).isZero();
            assertThat(f.drift()).isZero();
        }
    }

    /**
     * Conflicts are retried {@link Retries#CONFLICT_ATTEMPTS} times "on this
     * client's rows" (TransientErrors.Kind.CONFLICT), then the client in
     * flight fails. Acme loses four races and then gets through; Beta, next in
     * the same slice, loses one race once. Beta deserves its own attempts:
     * retried, it succeeds. Failing it would blame Beta for Acme's conflicts.
     */
    @Test
    void conflictsAClientGotPastDoNotCountAgainstTheNextClient() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID acme = client(dsl, 1, "Acme");
            UUID beta = client(dsl, 2, "Beta");
            f.leads(acme, f.campaign(acme, 1), 1, 3);
            f.leads(beta, f.campaign(beta, 1), 1, 3);
            f.recount();
            // sequences count the attempts: they move on whether or not the batch is rolled back
            db.sql("CREATE SEQUENCE test_acme_attempts; CREATE SEQUENCE test_beta_attempts;"
                    + " CREATE FUNCTION test_races() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                    + "   IF NEW.client_id = '" + acme + "' AND nextval('test_acme_attempts') <= " + (Retries.CONFLICT_ATTEMPTS - 1)
                    + "   OR NEW.client_id = '" + beta + "' AND nextval('test_beta_attempts') <= 1 THEN"
                    + "     RAISE EXCEPTION 'test: lost a race' USING ERRCODE = 'lock_not_available';"
                    + "   END IF;"
                    + "   RETURN NEW;"
                    + " END $$;"
                    + " CREATE TRIGGER test_races BEFORE UPDATE ON leads FOR EACH ROW EXECUTE FUNCTION test_races();");

            Invocation inv = Engine.on(db.db(), deenroll.alert.AlertSink.NONE, java.time.Clock.systemUTC(), new StopSignal())
                    .run(new RunRequest(java.util.Optional.empty(), RunType.SCHEDULED, 100, java.time.Duration.ofMinutes(2),
                            java.time.Duration.ofSeconds(90), false, false));

            assertThat(inv.clients()).extracting(c -> c.clientName() + " " + c.status() + " " + c.counts().deEnrolled()
                            + (c.error() == null ? "" : " " + c.error()))
                    .as("Acme's conflicts: %d attempts, Beta's: %d", Query.value(dsl, Long.class,
                            "SELECT last_value FROM test_acme_attempts"), Query.value(dsl, Long.class,
                            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM test_beta_attempts"))
                    .containsExactly("Acme SUCCESS 3", "Beta SUCCESS 3");
            assertThat(inv.status()).isEqualTo(InvocationStatus.SUCCESS);
            assertThat(f.eligible()).isZero();
        }
    }

    /**
     * Two calls of one invocation take turns on its lock (a retry while the
     * first call's backend still runs, e.g. after the connection was cut): the
     * second one, once it has the lock, must go on from what the first one
     * committed. Here the first call's batch starts Acme's run; meanwhile
     * another invocation starts on Acme too. The second call must see that its
     * own invocation is on Acme already and carry on with it, not take Acme for
     * a client it has not started and move it to the end with Acme's cursor
     * still in the row (Beta's walk would then start from Acme's cursor and
     * skip Beta's campaigns that sort before Acme's).
     */
    @Test
    void aCallThatWaitedForAnEarlierCallOfItsInvocationGoesOnFromWhatThatOneCommitted() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated(); Connection watch = DriverManager.getConnection(db.jdbcUrl())) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID acme = client(dsl, 1, "Acme");
            UUID beta = client(dsl, 2, "Beta");
            // Beta's campaign sorts before Acme's
            UUID acmeCampaign = UUID.fromString("f0000000-0000-0000-0000-000000000001");
            UUID betaCampaign = UUID.fromString("10000000-0000-0000-0000-000000000002");
            db.sql("INSERT INTO campaigns (id, client_id, name, messages) VALUES"
                    + " ('" + acmeCampaign + "', '" + acme + "', 'Acme campaign', '[{\"step\": 1}]'),"
                    + " ('" + betaCampaign + "', '" + beta + "', 'Beta campaign', '[{\"step\": 1}]')");
            f.leads(acme, acmeCampaign, 1, 3);
            f.leads(beta, betaCampaign, 1, 3);
            f.recount();
            // Acme's first batch is slow: its backend is still at it when the second call comes
            db.sql("CREATE SEQUENCE test_slow; CREATE FUNCTION test_slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                    + " IF NEW.client_id = '" + acme + "' AND nextval('test_slow') = 1 THEN PERFORM pg_sleep(2); END IF;"
                    + " RETURN NEW; END $$;"
                    + " CREATE TRIGGER test_slow BEFORE UPDATE ON leads FOR EACH ROW EXECUTE FUNCTION test_slow();");
            begin(dsl, INVOCATION, 1, false);
            ExecutorService calls = Executors.newFixedThreadPool(2);
            try {
                Future<String> first = calls.submit(() -> call(dsl, INVOCATION, 0));
                awaitOne(watch, "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'");
                // meanwhile another invocation starts on Acme
                InvocationKit.Other other = otherInvocationOn(dsl, acme, "interval '1 second'", 90_000, "interval '1 second'");
                Future<String> second = calls.submit(() -> call(dsl, INVOCATION, 0));
                awaitOne(watch, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        + " AND datname = current_database()");

                assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo("working");
                second.get(30, TimeUnit.SECONDS);
                DeEnrollmentInvocationsRecord afterSecond = invocation(dsl, INVOCATION);
                String state = "working";
                for (int i = 0; i < 20 && !state.equals("done"); i++) {
                    state = call(dsl, INVOCATION, 60_000);
                }

                assertThat(state).isEqualTo("done");
                assertThat(run(dsl, other.run()).getStatus()).isEqualTo("running");
                DeEnrollmentRunsRecord acmeRun = run(dsl, runId(INVOCATION, acme));
                DeEnrollmentRunsRecord betaRun = run(dsl, runId(INVOCATION, beta));
                assertThat(String.format("after the second call: clients %s, deferred %d; Acme %s %d; Beta %s %d;"
                                + " eligible left: %d", names(afterSecond.getClientIds(), acme, beta),
                        afterSecond.getDeferred(), acmeRun.getStatus(), acmeRun.getLeadsDeEnrolled(), betaRun.getStatus(),
                        betaRun.getLeadsDeEnrolled(), f.eligible()))
                        .isEqualTo("after the second call: clients [Acme, Beta], deferred 0; Acme success 3; Beta success 3;"
                                + " eligible left: 0");
                assertThat(f.drift()).isZero();
            } finally {
                calls.shutdownNow();
            }
        }
    }

    private static List<String> names(UUID[] ids, UUID acme, UUID beta) {
        return Arrays.stream(ids).map(id -> id.equals(acme) ? "Acme" : id.equals(beta) ? "Beta" : id.toString()).toList();
    }

    /** Polls {@code countQuery} on {@code watch} until it says 1 (10 s at most). */
    private static void awaitOne(Connection watch, String countQuery) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < end) {
            try (PreparedStatement s = watch.prepareStatement(countQuery); java.sql.ResultSet r = s.executeQuery()) {
                r.next();
                if (r.getInt(1) == 1) {
                    return;
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("not seen within 10 s: " + countQuery);
    }
}
