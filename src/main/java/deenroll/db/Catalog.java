package deenroll.db;

import org.jooq.DSLContext;
import org.jooq.impl.DSL;

import java.util.List;
import java.util.Set;

/** What exists in the database's current schema: the checks migrate, backup, rollback and verify make. */
public final class Catalog {

    private final DSLContext dsl;

    public Catalog(DSLContext dsl) {
        this.dsl = dsl;
    }

    /** A table, view, index or sequence of that name on the search path. */
    public boolean relationExists(String name) {
        return dsl.fetchValue(DSL.field("to_regclass({0}) IS NOT NULL", Boolean.class, DSL.val(name)));
    }

    /**
     * An index of that name that queries use: false when there is none, and when
     * an interrupted {@code CREATE INDEX CONCURRENTLY} left it invalid
     * ({@code pg_index.indisvalid}): no query reads it, while writes may still pay to maintain it.
     */
    public boolean indexValid(String name) {
        return dsl.fetchValue(DSL.field("coalesce((SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass({0})), false)",
                Boolean.class, DSL.val(name)));
    }

    /** The backends building that index right now (pg_stat_progress_create_index), e.g. another `migrate`. */
    public List<Integer> indexBuilders(String name) {
        return dsl.fetch("SELECT pid FROM pg_stat_progress_create_index WHERE index_relid = to_regclass({0}) ORDER BY pid",
                DSL.val(name)).getValues(0, Integer.class);
    }

    /** A function with that signature, e.g. {@code process_de_enrollment_batch(uuid,uuid[],uuid[])}. */
    public boolean functionExists(String signature) {
        return dsl.fetchValue(DSL.field("to_regprocedure({0}) IS NOT NULL", Boolean.class, DSL.val(signature)));
    }

    /** The column names of a table in the current schema (empty when there is no such table). */
    public Set<String> columns(String table) {
        return dsl.select(DSL.field("column_name", String.class))
                .from(DSL.table(DSL.name("information_schema", "columns")))
                .where(DSL.field("table_schema").eq(DSL.field("current_schema()")))
                .and(DSL.field("table_name").eq(table))
                .fetchSet(r -> r.value1());
    }
}
