package deenroll.control;

import deenroll.db.schema.tables.records.DeEnrollmentPausesRecord;
import org.jooq.DSLContext;

import java.util.Optional;

import static deenroll.db.schema.Routines.deEnrollmentCurrentPause;
import static deenroll.db.schema.Routines.deEnrollmentPause;
import static deenroll.db.schema.Routines.deEnrollmentResume;

/**
 * The pause kept in the database (migration 0027). Pausing and resuming are
 * the SQL functions', so two operators pausing at once get one pause, the
 * first one's.
 */
public final class Pauses {

    private final DSLContext dsl;

    public Pauses(DSLContext dsl) {
        this.dsl = dsl;
    }

    /** The pause in force, if any. */
    public Optional<Pause> current() {
        return dsl.selectFrom(deEnrollmentCurrentPause()).fetchOptional(Pauses::pause);
    }

    public PauseResult pause(String by, String reason) {
        var r = dsl.selectFrom(deEnrollmentPause(by, reason)).fetchSingle();
        return new PauseResult(new Pause(r.getId(), r.getPausedAt(), r.getPausedBy(), r.getReason()), r.getIsNew());
    }

    /** Ends the pause in force and returns it; empty when there was none. */
    public Optional<Pause> resume(String by) {
        return dsl.selectFrom(deEnrollmentResume(by)).fetchOptional(Pauses::pause);
    }

    private static Pause pause(DeEnrollmentPausesRecord r) {
        return new Pause(r.getId(), r.getPausedAt(), r.getPausedBy(), r.getReason());
    }
}
