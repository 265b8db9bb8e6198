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
 * Holds the invocation's session-level advisory lock
 * (de_enrollment_run_lock_key(invocation id)) on one connection kept for the
 * invocation. When the process dies, PostgreSQL ends the session and frees the
 * lock, which is how a later invocation tells a dead run from a slow one
 * (de_enrollment_abandoned_runs) without waiting for a timeout. The lock is
 * taken before a run row is inserted, so no one can see the row without it.
 * Taking it again on a live session only stacks it; closing frees it.
 */
public final class RunLocks implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RunLocks.class);

    private final DataSource dataSource;
    private Connection session;

    public RunLocks(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    public void hold(UUID invocationId) {
        try {
            lock(invocationId);
        } catch (RuntimeException e) {
            // the session may have been cut (server restart, pg_terminate_backend): once more on a new one
            LOG.debug("run-lock session lost ({}); opening a new one", e.getMessage());
            close();
            session = null;
            lock(invocationId);
        }
    }

    private void lock(UUID invocationId) {
        try {
            if (session == null || session.isClosed()) {
                session = dataSource.getConnection();
                session.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open the session that holds run locks: " + e.getMessage(), e);
        }
        DSL.using(session, SQLDialect.POSTGRES)
                .select(DSL.function("pg_advisory_lock", Object.class, deEnrollmentRunLockKey(DSL.val(invocationId))))
                .fetch();
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
