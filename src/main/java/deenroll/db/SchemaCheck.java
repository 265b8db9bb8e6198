package deenroll.db;

import org.jooq.DSLContext;
import org.jooq.exception.DataAccessException;

import static deenroll.db.schema.Routines.deEnrollmentSchemaVersion;

/** Refuses to work on a database whose schema is older than this build needs. */
public final class SchemaCheck {

    private static final String UNDEFINED_FUNCTION = "42883";

    private SchemaCheck() {
    }

    /** Throws {@link DatabaseUnavailableException} (exit 4) naming the fix: `deenroll migrate`. */
    public static void requireMigrated(DSLContext dsl) {
        Integer version;
        try {
            version = dsl.select(deEnrollmentSchemaVersion()).fetchOne(0, Integer.class);
        } catch (DataAccessException e) {
            if (UNDEFINED_FUNCTION.equals(e.sqlState())) {
                version = null;
            } else {
                throw e;
            }
        }
        if (version == null || version < Migrator.REQUIRED_VERSION) {
            throw new DatabaseUnavailableException("the database is not migrated (schema version "
                    + (version == null ? "none" : version) + ", this deenroll needs " + Migrator.REQUIRED_VERSION
                    + "): run `deenroll migrate` first");
        }
    }
}
