package deenroll.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import deenroll.config.DatabaseTarget;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.conf.Settings;
import org.jooq.impl.DSL;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.time.Duration;

/**
 * The connection pool and the jOOQ context of one invocation. A batch job needs
 * few connections: one for the work, one for the heartbeat, one spare for the
 * bookkeeping (alerts) while both are busy.
 * Nothing here depends on a session: behind a transaction pooler (PgBouncer,
 * managed poolers) each transaction may get another server connection. So
 * the driver sends no {@code options} startup parameter (PgBouncer refuses it
 * unless told to ignore it, and then ignores what it says) and keeps no named
 * server-side prepared statements ({@code prepareThreshold=0}: a pooler hands
 * them to connections that never saw them). The statement timeout is enforced
 * by the driver, which cancels a statement that outlives it (a cancel request
 * reaches the right server connection through a pooler too; the long
 * operations open theirs with their own timeout, which may be none); JIT is switched
 * off per transaction where it costs (the batch loop, 0027). Only
 * {@code application_name}, a startup parameter poolers pass on, tags the sessions.
 */
public final class Database implements AutoCloseable {

    private final HikariDataSource dataSource;
    private final DSLContext dsl;
    private final DatabaseTarget target;

    private Database(HikariDataSource dataSource, DatabaseTarget target, Duration statementTimeout) {
        this.dataSource = dataSource;
        this.target = target;
        this.dsl = DSL.using(dataSource, SQLDialect.POSTGRES, new Settings()
                .withExecuteLogging(false)
                .withQueryTimeout(queryTimeoutSeconds(statementTimeout)));
    }

    /** Whole seconds (JDBC's unit), rounded up so the timeout is never shorter than asked; zero is JDBC's "none". */
    private static int queryTimeoutSeconds(Duration timeout) {
        return timeout.isZero() ? 0 : (int) Math.min(Integer.MAX_VALUE, Math.max(1, (timeout.toMillis() + 999) / 1000));
    }

    /**
     * Opens the pool and one connection, so an unreachable database fails here,
     * quickly, as a {@link DatabaseUnavailableException}.
     */
    public static Database open(DatabaseTarget target, Duration connectTimeout, Duration statementTimeout) {
        if (!target.isLocal() && !target.verifiesServerCertificate()) {
            LoggerFactory.getLogger(Database.class).warn("the connection to {} does not verify the server's certificate"
                    + " (sslmode={}): a machine on the network path could pose as the server;"
                    + " set sslmode=verify-full and sslrootcert=<the CA's certificate file>",
                    target.describe(), target.sslMode() == null ? "prefer, the default" : target.sslMode());
        }
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(target.jdbcUrl());
        if (target.user() != null) {
            config.setUsername(target.user());
        }
        if (target.password() != null) {
            config.setPassword(target.password());
        }
        config.setPoolName("deenroll");
        config.setMaximumPoolSize(3);
        // One idle connection while the pool starts: the connection that proves the database
        // reachable is then kept for the first statement. With none wanted, the pool closes it
        // and the first statement waits for a second connection set-up (a start-up cost of every
        // process). None is wanted afterwards (below).
        config.setMinimumIdle(1);
        config.setConnectionTimeout(Math.max(250, connectTimeout.toMillis()));
        config.setInitializationFailTimeout(1);
        // As strings: HikariCP hands these to the driver as they are, and pgjdbc reads only
        // String values from its Properties (an Integer 0 is dropped, and the default
        // prepareThreshold of 5 names a statement's fifth execution S_1 on the server).
        String connectSeconds = String.valueOf(Math.max(1, connectTimeout.toSeconds()));
        config.addDataSourceProperty("ApplicationName", "deenroll");
        config.addDataSourceProperty("connectTimeout", connectSeconds);
        config.addDataSourceProperty("loginTimeout", connectSeconds);
        config.addDataSourceProperty("tcpKeepAlive", "true");
        config.addDataSourceProperty("prepareThreshold", "0");
        try {
            HikariDataSource dataSource = new HikariDataSource(config);
            // No idle connection kept from now on: the pool opens connections when asked for them
            // (the work's, the heartbeat's), never one in the background to stand idle.
            dataSource.setMinimumIdle(0);
            return new Database(dataSource, target, statementTimeout);
        } catch (HikariPool.PoolInitializationException e) {
            String why = TlsErrors.explain(e, target).map(tls -> tls + ": ").orElse("");
            throw new DatabaseUnavailableException(
                    "cannot connect to the database at " + target.describe() + ": " + why + DbErrors.describe(e), e);
        }
    }

    public DSLContext dsl() {
        return dsl;
    }

    public DataSource dataSource() {
        return dataSource;
    }

    public DatabaseTarget target() {
        return target;
    }

    @Override
    public void close() {
        dataSource.close();
    }
}
