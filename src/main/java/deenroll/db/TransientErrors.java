package deenroll.db;

import org.jooq.exception.DataAccessException;

import java.sql.SQLException;
import java.util.Set;

/**
 * Which database errors are worth retrying: the transaction lost a race or the
 * connection went away, and the same statement may well succeed a moment later.
 * A batch is safe to retry because every lead is re-checked for eligibility
 * under its row lock: a batch that did commit finds nothing left to do.
 */
public final class TransientErrors {

    private static final Set<String> RETRYABLE = Set.of(
            "40001", // serialization_failure
            "40P01", // deadlock_detected
            "55P03", // lock_not_available
            "57P01", // admin_shutdown (pg_terminate_backend, server restart)
            "57P02", // crash_shutdown
            "57P03"  // cannot_connect_now (server starting)
    );

    private TransientErrors() {
    }

    public static boolean isTransient(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            String state = null;
            if (t instanceof DataAccessException dae) {
                state = dae.sqlState();
            } else if (t instanceof SQLException sql) {
                state = sql.getSQLState();
            }
            if (state != null && (RETRYABLE.contains(state) || state.startsWith("08"))) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }
}
