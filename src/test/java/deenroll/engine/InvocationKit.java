package deenroll.engine;

import deenroll.db.schema.tables.records.DeEnrollmentInvocationsRecord;
import deenroll.db.schema.tables.records.DeEnrollmentRunsRecord;
import deenroll.support.Fixtures;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;

import java.util.List;
import java.util.UUID;

import static deenroll.db.schema.Routines.deEnrollmentBeginInvocation;
import static deenroll.db.schema.Routines.deEnrollmentRunInvocation;
import static deenroll.db.schema.Tables.CLIENTS;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_HEARTBEATS;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_INVOCATIONS;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_RUNS;

/**
 * The invocation's routines (0027) called the way the engine calls them, and
 * rows written as another process (on another host) would leave them, for the
 * tests that drive the lifecycle without the engine.
 */
final class InvocationKit {

    static final String HOST = "worker-7";
    static final int PID = 4242;
    static final int BUDGET_MS = 300_000;
    static final int LEASE_MS = 90_000;

    private InvocationKit() {
    }

    /**
     * A client whose id sorts as {@code n} does: clients that never ran are
     * worked on in id order (de_enrollment_clients_to_run), so a test names
     * the order it expects.
     */
    static UUID client(DSLContext dsl, int n, String name) {
        UUID id = UUID.fromString(String.format("00000000-0000-0000-0000-%012d", n));
        dsl.insertInto(CLIENTS).set(CLIENTS.ID, id).set(CLIENTS.NAME, name).set(CLIENTS.IS_ACTIVE, true)
                .set(CLIENTS.CREATED_AT, Fixtures.LONG_AGO).execute();
        return id;
    }

    /** {@code n} leads at {@code position} in one statement, as Fixtures.lead writes them one by one. */
    static void bulkLeads(DSLContext dsl, UUID client, UUID campaign, int position, int n) {
        dsl.execute("INSERT INTO leads (id, client_id, campaign_link_id, first_name, current_message_position, booked,"
                        + " opted_out, enrolled_at, last_message_at, created_at, updated_at)"
                        + " SELECT md5(random()::text || clock_timestamp()::text || g)::uuid, {0}, {1}, 'Lead', {2},"
                        + " false, false, {3}, {3}, {4}, {3} FROM generate_series(1, {5}) AS g",
                DSL.val(client), DSL.val(campaign), DSL.val(position), DSL.val(Fixtures.LONG_AGO),
                DSL.val(Fixtures.LONG_AGO.minusDays(1)), DSL.val(n));
    }

    /** de_enrollment_begin_invocation for every active client, host {@link #HOST} pid {@link #PID}. */
    static String begin(DSLContext dsl, UUID invocation, int batchSize, boolean ignorePause) {
        return deEnrollmentBeginInvocation(dsl.configuration(), invocation, HOST, PID, "scheduled", batchSize, BUDGET_MS,
                LEASE_MS, ignorePause, null);
    }

    /** One call of the batch loop (CALL de_enrollment_run_invocation): its io_state. */
    static String call(DSLContext dsl, UUID invocation, int sliceMs) {
        return deEnrollmentRunInvocation(dsl.configuration(), invocation, sliceMs, 100, null);
    }

    static DeEnrollmentInvocationsRecord invocation(DSLContext dsl, UUID id) {
        return dsl.selectFrom(DE_ENROLLMENT_INVOCATIONS).where(DE_ENROLLMENT_INVOCATIONS.ID.eq(id)).fetchOne();
    }

    static DeEnrollmentRunsRecord run(DSLContext dsl, UUID id) {
        return dsl.selectFrom(DE_ENROLLMENT_RUNS).where(DE_ENROLLMENT_RUNS.ID.eq(id)).fetchOne();
    }

    /** The run id the invocation gives {@code client} (md5(invocation || client), as begin derives it). */
    static UUID runId(UUID invocation, UUID client) {
        return UUID.fromString(md5Uuid(invocation.toString() + client));
    }

    private static String md5Uuid(String text) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("MD5")
                    .digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            StringBuilder hex = new StringBuilder();
            for (byte b : d) {
                hex.append(String.format("%02x", b));
            }
            return hex.substring(0, 8) + "-" + hex.substring(8, 12) + "-" + hex.substring(12, 16) + "-"
                    + hex.substring(16, 20) + "-" + hex.substring(20);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The invocation's clients in its current order. */
    static List<UUID> clients(DSLContext dsl, UUID invocation) {
        return List.of(invocation(dsl, invocation).getClientIds());
    }

    static boolean heartbeatExists(DSLContext dsl, UUID invocation) {
        return dsl.fetchExists(DE_ENROLLMENT_HEARTBEATS, DE_ENROLLMENT_HEARTBEATS.INVOCATION_ID.eq(invocation));
    }

    /** Moves an invocation's heartbeat back to {@code ago} (an SQL interval), as a process silent that long leaves it. */
    static void heartbeatAgo(DSLContext dsl, UUID invocation, String ago) {
        dsl.execute("UPDATE de_enrollment_heartbeats SET heartbeat_at = now() - " + ago + " WHERE invocation_id = {0}",
                DSL.val(invocation));
    }

    /** Another process's invocation, working on {@code client}: its row, its heartbeat and its running run. */
    record Other(UUID invocation, UUID run) {
    }

    /**
     * An invocation of another process (host other-host, pid 99) on {@code client}: its row at that client, its
     * heartbeat {@code heartbeatAgo} old (an SQL interval) with a lease of {@code leaseMs}, and the client's run,
     * running, started {@code runAgo} ago.
     */
    static Other otherInvocationOn(DSLContext dsl, UUID client, String heartbeatAgo, int leaseMs, String runAgo) {
        UUID invocation = UUID.randomUUID();
        UUID run = runId(invocation, client);
        dsl.execute("INSERT INTO de_enrollment_invocations (id, host, pid, run_type, batch_size, budget_ms, lease_ms,"
                        + " client_ids, run_ids, started_at) VALUES ({0}, 'other-host', 99, 'scheduled', 100, 240000, {1},"
                        + " ARRAY[{2}]::uuid[], ARRAY[{3}]::uuid[], now() - " + runAgo + ")",
                DSL.val(invocation), DSL.val(leaseMs), DSL.val(client), DSL.val(run));
        dsl.execute("INSERT INTO de_enrollment_heartbeats (invocation_id, heartbeat_at) VALUES ({0}, now() - "
                + heartbeatAgo + ")", DSL.val(invocation));
        dsl.execute("INSERT INTO de_enrollment_runs (id, invocation_id, client_id, run_at, run_type, status, budget_ms,"
                        + " host, pid, heartbeat_at) VALUES ({0}, {1}, {2}, now() - " + runAgo + ", 'scheduled', 'running',"
                        + " 240000, 'other-host', 99, now() - " + heartbeatAgo + ")",
                DSL.val(run), DSL.val(invocation), DSL.val(client));
        return new Other(invocation, run);
    }
}
