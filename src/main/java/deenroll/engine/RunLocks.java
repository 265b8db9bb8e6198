package deenroll.engine;

import org.jooq.impl.DSL;
import org.jooq.SQLDialect;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.UUID;

import static deenroll.db.schema.Routines.deEnrollmentRunLockKey;

/**
 * Holds a session-level advisory lock per running run, on one connection kept
 * for the invocation. When the process dies, PostgreSQL ends the session and
 * frees the locks, which is how a later invocation tells a dead run from a slow
 * one (de_enrollment_abandoned_runs) without waiting for a timeout.
 * The lock is taken before the run row is inserted, so no one can see the row
 * without its lock.
 */
public final class RunLocks implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RunLocks.class);

    private final DataSource dataSource;
    private Connection session;

    public RunLocks(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    public void hold(UUID runId) {
        try {
            lock(runId);
        } catch (RuntimeException e) {
            // the session may have been cut (server restart, pg_terminate_backend): once more on a new one
            LOG.debug("run-lock session lost ({}); opening a new one", e.getMessage());
            close();
            session = null;
            lock(runId);
        }
    }

    private void lock(UUID runId) {
        try {
            if (session == null || session.isClosed()) {
                session = dataSource.getConnection();
                session.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open the session that holds run locks: " + e.getMessage(), e);
        }
        DSL.using(session, SQLDialect.POSTGRES)
                .select(DSL.function("pg_advisory_lock", Object.class, deEnrollmentRunLockKey(DSL.val(runId))))
                .fetch();
    }

    /** Frees the lock of a closed run; a failure only means the session is gone, which frees it too. */
    public void release(UUID runId) {
        if (session == null) {
            return;
        }
        try {
            DSL.using(session, SQLDialect.POSTGRES)
                    .select(DSL.function("pg_advisory_unlock", Boolean.class, deEnrollmentRunLockKey(DSL.val(runId))))
                    .fetch();
        } catch (RuntimeException e) {
            LOG.debug("run lock of {} not released explicitly (session gone): {}", runId, e.getMessage());
        }
    }

    @Override
    public void close() {
        if (session != null) {
            try {
                session.close();
            } catch (SQLException e) {
                LOG.debug("closing the run-lock session: {}", e.getMessage());
            }
        }
    }
}
