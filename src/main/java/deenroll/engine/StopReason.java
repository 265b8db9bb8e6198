package deenroll.engine;

import java.util.Locale;

/** Why an invocation stopped working (de_enrollment_invocations.stop_reason). */
public enum StopReason {
    /** Every client had its run. */
    DONE,
    /** The time budget ran out (or the database stayed unreachable until it did). */
    BUDGET,
    /** SIGTERM. */
    SIGTERM,
    /** An operator paused de-enrollment (`deenroll pause`). */
    PAUSED,
    /** Another process took this invocation for dead (its heartbeat was older than its lease) and closed it. */
    ABANDONED;

    public String sql() {
        return name().toLowerCase(Locale.ROOT);
    }
}
