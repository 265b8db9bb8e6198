package deenroll.engine;

import deenroll.db.schema.tables.records.DeEnrollmentInvocationProgressRecord;
import org.jooq.DSLContext;

import java.time.Duration;
import java.util.UUID;

import static deenroll.db.schema.Routines.deEnrollmentBeginInvocation;
import static deenroll.db.schema.Routines.deEnrollmentFailInFlight;
import static deenroll.db.schema.Routines.deEnrollmentFinishInvocation;
import static deenroll.db.schema.Routines.deEnrollmentHeartbeat;
import static deenroll.db.schema.Routines.deEnrollmentRunInvocation;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_INVOCATION_PROGRESS;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_LIVE_INVOCATIONS;

/**
 * The invocation's row in de_enrollment_invocations (0027) and the routines
 * that move it: every state transition is one statement, made in PostgreSQL,
 * so the rows (the invocation's and its runs') always say where the work
 * stands and nothing depends on a database session surviving between statements.
 */
final class Invocations {

    /** What a call of the batch loop left the invocation in (de_enrollment_run_invocation's io_state). */
    enum SliceState {
        WORKING, DONE, PAUSED, CLOSED;

        static SliceState of(String sql) {
            return valueOf(sql.toUpperCase(java.util.Locale.ROOT));
        }
    }

    private final DSLContext dsl;

    Invocations(DSLContext dsl) {
        this.dsl = dsl;
    }

    /** Records the invocation and its clients; false (and nothing written) when a pause is in force. */
    boolean begin(UUID id, RunRequest request) {
        String status = deEnrollmentBeginInvocation(dsl.configuration(), id, Runs.host(), (int) ProcessHandle.current().pid(),
                request.runType().sql(), request.batchSize(), request.budgetMs(), request.leaseMs(),
                request.ignorePause(), request.clientId().orElse(null));
        return "running".equals(status);
    }

    /** Runs batches for up to {@code slice} (at least one), committing each; says where that left the invocation. */
    SliceState work(UUID id, Duration slice) {
        int sliceMs = (int) Math.max(0, Math.min(slice.toMillis(), Integer.MAX_VALUE));
        return SliceState.of(deEnrollmentRunInvocation(dsl.configuration(), id, sliceMs, PeakMemory.megabytes(), null));
    }

    /** Closes the in-flight client's run as failed with {@code error} and moves on; the run's id, or null. */
    UUID failInFlight(UUID id, String error) {
        return deEnrollmentFailInFlight(dsl.configuration(), id, error, PeakMemory.megabytes());
    }

    /** Ends the invocation; false when another process had closed it as abandoned. */
    boolean finish(UUID id, StopReason reason) {
        return "finished".equals(deEnrollmentFinishInvocation(dsl.configuration(), id, reason.sql(), PeakMemory.megabytes()));
    }

    /** Moves the heartbeat; says whether the invocation is still running, finished, or was closed as abandoned. */
    String beat(UUID id) {
        return deEnrollmentHeartbeat(dsl.configuration(), id);
    }

    /**
     * How far the invocation is: the client in flight and the batches its run has committed
     * (de_enrollment_invocation_progress). Equal while nothing moved, whichever call did the work.
     */
    DeEnrollmentInvocationProgressRecord where(UUID id) {
        return dsl.selectFrom(DE_ENROLLMENT_INVOCATION_PROGRESS(id)).fetchSingle();
    }

    /** Clients done of all, and the leads its runs de-enrolled so far: the numbers `status` shows, from its view. */
    Progress progress(UUID id, Duration elapsed, Duration budgetLeft) {
        var v = DE_ENROLLMENT_LIVE_INVOCATIONS;
        var r = dsl.select(v.CLIENTS_DONE, v.CLIENTS_TOTAL, v.LEADS_DE_ENROLLED).from(v).where(v.INVOCATION_ID.eq(id))
                .fetchSingle();
        return new Progress(r.value1(), r.value2(), r.value3(), elapsed, budgetLeft);
    }
}
