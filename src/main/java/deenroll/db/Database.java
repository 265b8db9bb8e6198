package deenroll.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import deenroll.config.DatabaseTarget;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.conf.Settings;
import org.jooq.impl.DSL;

import javax.sql.DataSource;
import java.time.Duration;

/**
 * The connection pool and the jOOQ context of one invocation. A batch job needs
 * few connections: one for the work, one spare for the run bookkeeping.
 * Every session is tagged {@code application_name=deenroll} and bounded by a
 * statement timeout, and JIT is off (DESIGN bench notes: its cost estimates make
 * it compile small statements for nothing).
 */
public final class Database implements AutoCloseable {

    private final HikariDataSource dataSource;
    private final DSLContext dsl;
    private final DatabaseTarget target;

    private Database(HikariDataSource dataSource, DatabaseTarget target) {
        this.dataSource = dataSource;
        this.target = target;
        this.dsl = DSL.using(dataSource, SQLDialect.POSTGRES,
                new Settings().withExecuteLogging(false));
    }

    /**
     * Opens the pool and one connection, so an unreachable database fails here,
     * quickly, as a {@link DatabaseUnavailableException}.
     */
    public static Database open(DatabaseTarget target, Duration connectTimeout, Duration statementTimeout) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(target.jdbcUrl());
        if (target.user() != null) {
            config.setUsername(target.user());
        }
        if (target.password() != null) {
            config.setPassword(target.password());
        }
        config.setPoolName("deenroll");
        config.setMaximumPoolSize(2);
        config.setMinimumIdle(0);
        config.setConnectionTimeout(Math.max(250, connectTimeout.toMillis()));
        config.setInitializationFailTimeout(1);
        config.addDataSourceProperty("ApplicationName", "deenroll");
        config.addDataSourceProperty("connectTimeout", Math.max(1, connectTimeout.toSeconds()));
        config.addDataSourceProperty("loginTimeout", Math.max(1, connectTimeout.toSeconds()));
        config.addDataSourceProperty("tcpKeepAlive", true);
        config.addDataSourceProperty("options",
                "-c statement_timeout=" + statementTimeout.toMillis() + " -c jit=off");
        try {
            return new Database(new HikariDataSource(config), target);
        } catch (HikariPool.PoolInitializationException e) {
            throw new DatabaseUnavailableException(
                    "cannot connect to the database at " + target.describe() + ": " + DbErrors.describe(e), e);
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
