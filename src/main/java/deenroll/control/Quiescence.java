package deenroll.control;

import deenroll.config.UsageException;
import deenroll.db.Catalog;
import org.jooq.DSLContext;

import java.util.List;
import java.util.Optional;

/**
 * The precondition of the commands that rewrite what runs read or write
 * (restore, rollback): de-enrollment is paused and no invocation is live, on
 * any host. Paused alone is not enough: a run in flight finishes its batch
 * first, and an invocation started with --ignore-pause does not stop at all.
 */
public final class Quiescence {

    private final DSLContext dsl;

    public Quiescence(DSLContext dsl) {
        this.dsl = dsl;
    }

    /** True when this schema keeps pauses and invocations (0027 and later). */
    public boolean checkable() {
        return new Catalog(dsl).relationExists("de_enrollment_pauses");
    }

    /**
     * The pause in force; throws a {@link UsageException} (exit 2) naming the
     * next step when there is none, or while an invocation is live.
     */
    public Pause require(String command) {
        Optional<Pause> pause = new Pauses(dsl).current();
        if (pause.isEmpty()) {
            throw new UsageException(command + ": de-enrollment is not paused; first `deenroll pause --reason \"…\"`,"
                    + " then `deenroll status` until it says no invocation running");
        }
        List<LiveInvocation> live = new LiveInvocations(dsl).list().invocations();
        if (!live.isEmpty()) {
            LiveInvocation first = live.get(0);
            throw new UsageException(command + ": " + live.size() + " invocation(s) still running (first: "
                    + first.invocationId() + " on " + first.host() + " pid " + first.pid()
                    + (first.ignoresPause() ? ", ignores the pause" : "")
                    + "); wait until `deenroll status` says no invocation running");
        }
        return pause.get();
    }
}
