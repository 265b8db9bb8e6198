package deenroll.support;

import deenroll.config.DatabaseTarget;
import deenroll.db.Database;

import java.time.Duration;

/** One test's own database; dropped on close. */
public final class TestDatabase implements AutoCloseable {

    private final TestPostgres server;
    private final String name;
    private Database database;

    TestDatabase(TestPostgres server, String name) {
        this.server = server;
        this.name = name;
    }

    public String name() {
        return name;
    }

    public String jdbcUrl() {
        return server.jdbcUrl(name);
    }

    public DatabaseTarget target() {
        return server.target(name);
    }

    /** A pool on this database, opened once and closed with it. */
    public synchronized Database db() {
        if (database == null) {
            database = Database.open(target(), Duration.ofSeconds(10), Duration.ofMinutes(5));
        }
        return database;
    }

    /** Runs SQL (one or more statements) in its own connection. */
    public void sql(String sql) {
        server.executeIn(name, sql);
    }

    @Override
    public synchronized void close() {
        if (database != null) {
            database.close();
        }
        server.drop(name);
    }
}
