package deenroll.db;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.jooq.DSLContext;

import javax.sql.DataSource;
import java.util.List;

/**
 * Applies db/migration with Flyway. The platform's database exists before the
 * tool: when it holds the host tables but no Flyway history, Flyway records a
 * baseline at version 18 ("the host schema") and applies 19 onwards.
 */
public final class Migrator {

    /** The schema version this build of the tool needs and ships. */
    public static final int REQUIRED_VERSION = 28;
    static final String BASELINE_VERSION = "18";
    private static final List<String> HOST_TABLES = List.of("clients", "campaigns", "leads");

    private final DataSource dataSource;
    private final DSLContext dsl;

    public Migrator(DataSource dataSource, DSLContext dsl) {
        this.dataSource = dataSource;
        this.dsl = dsl;
    }

    public MigrateResult migrate() {
        Catalog catalog = new Catalog(dsl);
        List<String> missing = HOST_TABLES.stream().filter(t -> !catalog.relationExists(t)).toList();
        if (!missing.isEmpty()) {
            throw new DatabaseUnavailableException("the host tables " + String.join(", ", missing)
                    + " do not exist here: deenroll migrates the campaign platform's database, it does not create it");
        }
        return flyway().migrate();
    }

    Flyway flyway() {
        return Flyway.configure()
                .dataSource(dataSource)
                .locations("classpath:db/migration")
                .baselineOnMigrate(true)
                .baselineVersion(BASELINE_VERSION)
                .baselineDescription("host schema before deenroll")
                .loggers("slf4j")
                .load();
    }
}
