package deenroll.db;

import org.jooq.exception.DataAccessException;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.Map;
import java.util.Optional;

/**
 * Which database errors are worth retrying, and how. A batch is safe to retry
 * because every lead is re-checked for eligibility under its row lock, and the
 * invocation's and its runs' rows say where the work stands: a batch that did
 * commit leaves nothing to redo.
 * The list is the one of de_enrollment_retryable(sqlstate) (0027), which
 * decides what PL/pgSQL re-raises for the caller instead of failing the
 * client; TransientErrorsTest holds the two equal.
 */
public final class TransientErrors {

    /** How long a retryable error is worth waiting for. */
    public enum Kind {
        /**
         * The server went away or is coming back (lost connection, restart):
         * it is the same for every client, so it is waited for while the
         * invocation's budget lasts.
         */
        OUTAGE,
        /**
         * The statement lost a race or ran out of time on this client's rows
         * (serialization, deadlock, lock or statement timeout): retried a few
         * times, then the client in flight fails and the next one runs.
         */
        CONFLICT
    }

    /** The SQLSTATEs de_enrollment_retryable lists, besides class 08 (connection exception), which is an outage. */
    public static final Map<String, Kind> RETRYABLE = Map.of(
            "40001", Kind.CONFLICT, // serialization_failure
            "40P01", Kind.CONFLICT, // deadlock_detected
            "55P03", Kind.CONFLICT, // lock_not_available
            "57014", Kind.CONFLICT, // query_canceled: statement timeout, pg_cancel_backend
            "57P01", Kind.OUTAGE,   // admin_shutdown (pg_terminate_backend, server restart)
            "57P02", Kind.OUTAGE,   // crash_shutdown
            "57P03", Kind.OUTAGE    // cannot_connect_now (server starting)
    );
    static final String CONNECTION_EXCEPTION_CLASS = "08";

    private TransientErrors() {
    }

    /** The kind of retry {@code error} deserves, or empty when retrying cannot help. */
    public static Optional<Kind> classify(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof SQLTransientConnectionException) {
                // the pool could not hand out a connection in time: the server is unreachable
                return Optional.of(Kind.OUTAGE);
            }
            Optional<Kind> kind = ofSqlState(sqlState(t));
            if (kind.isPresent()) {
                return kind;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return Optional.empty();
    }

    /** The kind of retry an SQLSTATE deserves (as de_enrollment_retryable decides). */
    public static Optional<Kind> ofSqlState(String state) {
        if (state == null) {
            return Optional.empty();
        }
        if (state.startsWith(CONNECTION_EXCEPTION_CLASS)) {
            return Optional.of(Kind.OUTAGE);
        }
        return Optional.ofNullable(RETRYABLE.get(state));
    }

    private static String sqlState(Throwable t) {
        if (t instanceof DataAccessException dae) {
            return dae.sqlState();
        }
        if (t instanceof SQLException sql) {
            return sql.getSQLState();
        }
        return null;
    }
}
