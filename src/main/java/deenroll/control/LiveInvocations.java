package deenroll.control;

import deenroll.db.schema.tables.records.DeEnrollmentLiveInvocationsRecord;
import deenroll.engine.AbandonedRun;
import deenroll.engine.Runs;
import org.jooq.DSLContext;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static deenroll.db.schema.Tables.DE_ENROLLMENT_LIVE_INVOCATIONS;

/** The invocations running on this database, from any host. */
public final class LiveInvocations {

    /** The invocations still running, and the runs of dead ones that this look closed. */
    public record Listing(List<LiveInvocation> invocations, List<AbandonedRun> abandonedClosed) {
    }

    private final DSLContext dsl;

    public LiveInvocations(DSLContext dsl) {
        this.dsl = dsl;
    }

    /**
     * Closes what dead invocations left first, so a process that died is not
     * listed as running; then the rest, oldest first.
     */
    public Listing list() {
        List<AbandonedRun> closed = new Runs(dsl).closeAbandoned();
        List<LiveInvocation> running = dsl.selectFrom(DE_ENROLLMENT_LIVE_INVOCATIONS)
                .orderBy(DE_ENROLLMENT_LIVE_INVOCATIONS.STARTED_AT, DE_ENROLLMENT_LIVE_INVOCATIONS.INVOCATION_ID)
                .fetch(LiveInvocations::invocation);
        return new Listing(running, closed);
    }

    private static LiveInvocation invocation(DeEnrollmentLiveInvocationsRecord r) {
        Optional<ClientInFlight> inFlight = Optional.ofNullable(r.getClientInFlightId())
                .map(id -> new ClientInFlight(id, r.getClientInFlightName()));
        return new LiveInvocation(r.getInvocationId(), r.getHost(), r.getPid(), r.getRunType(), r.getStartedAt(),
                r.getHeartbeatAgeS(), Duration.ofMillis(r.getLeaseMs()), r.getIgnorePause(), inFlight,
                r.getClientsDone(), r.getClientsTotal(), r.getLeadsDeEnrolled());
    }
}
