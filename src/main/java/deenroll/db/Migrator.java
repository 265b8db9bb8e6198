package deenroll.db;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.jooq.DSLContext;

import javax.sql.DataSource;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * Applies db/migration with Flyway. The platform's database exists before the
 * tool: when it holds the host tables but no Flyway history, Flyway records a
 * baseline at version 18 ("the host schema") and applies 19 onwards. Every
 * migration waits at most {@code lockTimeout} for a lock ({@link LockTimeout}).
 * An index on a host table is built concurrently before its migration
 * ({@link HostIndexes}): Flyway applies the migrations up to the one before
 * it, the index is built (or an invalid one rebuilt), then Flyway applies the
 * rest, and the migration's own {@code CREATE INDEX IF NOT EXISTS} finds it.
 */
public final class Migrator {

    /** The schema version this build of the tool needs and ships. */
    public static final int REQUIRED_VERSION = 34;
    static final String BASELINE_VERSION = "18";
    private static final List<String> HOST_TABLES = List.of("clients", "campaigns", "leads");

    /** The lock_timeout of each migration when none is given: long enough for a busy table's short transactions. */
    public static final Duration DEFAULT_LOCK_TIMEOUT = Duration.ofSeconds(10);

    private final DataSource dataSource;
    private final DSLContext dsl;
    private final Duration lockTimeout;

    public Migrator(DataSource dataSource, DSLContext dsl) {
        this(dataSource, dsl, DEFAULT_LOCK_TIMEOUT);
    }

    public Migrator(DataSource dataSource, DSLContext dsl, Duration lockTimeout) {
        this.dataSource = dataSource;
        this.dsl = dsl;
        this.lockTimeout = lockTimeout;
    }

    /** True when {@code error} is a migration that gave up waiting for a lock (its transaction rolled back). */
    public static boolean lockTimedOut(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLException sql && LockTimeout.LOCK_NOT_AVAILABLE.equals(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    public MigrateResult migrate() {
        Catalog catalog = new Catalog(dsl);
        List<String> missing = HOST_TABLES.stream().filter(t -> !catalog.relationExists(t)).toList();
        if (!missing.isEmpty()) {
            throw new DatabaseUnavailableException("the host tables " + String.join(", ", missing)
                    + " do not exist here: deenroll migrates the campaign platform's database, it does not create it");
        }
        HostIndexes indexes = new HostIndexes(dataSource, catalog);
        MigrateResult result = null;
        for (HostIndex index : HostIndex.ALL) {
            if (pending(index.version())) {
                result = followedBy(result, flyway(String.valueOf(index.version() - 1)).migrate());
            }
            indexes.ensure(index);
        }
        return followedBy(result, flyway("latest").migrate());
    }

    private boolean pending(int version) {
        return Arrays.stream(flyway("latest").info().pending())
                .anyMatch(m -> m.getVersion() != null && m.getVersion().getVersion().equals(String.valueOf(version)));
    }

    /** One result for migrations applied in two steps, as if in one. */
    private static MigrateResult followedBy(MigrateResult first, MigrateResult then) {
        if (first == null || first.migrationsExecuted == 0) {
            return then;
        }
        then.initialSchemaVersion = first.initialSchemaVersion;
        then.migrations.addAll(0, first.migrations);
        then.migrationsExecuted += first.migrationsExecuted;
        then.warnings.addAll(0, first.warnings);
        if (then.targetSchemaVersion == null) {
            then.targetSchemaVersion = first.targetSchemaVersion;
        }
        return then;
    }

    /** Flyway as `migrate` runs it, applying up to {@code target}: a version, or "latest". */
    Flyway flyway(String target) {
        return Flyway.configure()
                .dataSource(dataSource)
                .locations("classpath:db/migration")
                .baselineOnMigrate(true)
                .baselineVersion(BASELINE_VERSION)
                .baselineDescription("host schema before deenroll")
                .target(target)
                .loggers("slf4j")
                .callbacks(new LockTimeout(lockTimeout))
                .load();
    }
}
