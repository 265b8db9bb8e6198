package deenroll.db;

import org.flywaydb.core.api.callback.Callback;
import org.flywaydb.core.api.callback.Context;
import org.flywaydb.core.api.callback.Event;

import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/**
 * Sets {@code lock_timeout} in the transaction of every migration, before its
 * first statement. A migration that alters a host table needs its strongest
 * lock; queued behind one long transaction, it would block every query on
 * the table while it waits. With the timeout it gives up instead, its
 * transaction rolls back whole, and `migrate` can simply be run again.
 * Set per migration, not in the files: the released migrations keep their
 * checksums, and per transaction (SET LOCAL), not per session: behind a
 * transaction pooler a session setting would land on another connection.
 */
final class LockTimeout implements Callback {

    /** SQLSTATE lock_not_available, what PostgreSQL raises when the timeout is hit. */
    static final String LOCK_NOT_AVAILABLE = "55P03";

    private final Duration timeout;

    LockTimeout(Duration timeout) {
        this.timeout = timeout;
    }

    @Override
    public boolean supports(Event event, Context context) {
        return event == Event.BEFORE_EACH_MIGRATE;
    }

    @Override
    public boolean canHandleInTransaction(Event event, Context context) {
        return true;
    }

    @Override
    public void handle(Event event, Context context) {
        try (Statement s = context.getConnection().createStatement()) {
            s.execute("SET LOCAL lock_timeout = " + timeout.toMillis());
        } catch (SQLException e) {
            throw new IllegalStateException("cannot set lock_timeout: " + DbErrors.describe(e), e);
        }
    }

    @Override
    public String getCallbackName() {
        return "deenroll lock_timeout";
    }
}
