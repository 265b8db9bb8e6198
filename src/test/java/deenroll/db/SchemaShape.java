package deenroll.db;

import org.jooq.DSLContext;

import java.util.List;

/**
 * What a migrated schema offers, as comparable lists: columns, functions with
 * their signatures, views, indexes and constraints of the public schema, without
 * Flyway's own history table.
 */
record SchemaShape(List<String> columns, List<String> functions, List<String> views, List<String> indexes,
                   List<String> constraints) {

    static SchemaShape of(DSLContext dsl) {
        return new SchemaShape(
                strings(dsl, "SELECT table_name || '.' || column_name || ' ' || data_type || ' null=' || is_nullable"
                        + " || ' default=' || coalesce(column_default, '') FROM information_schema.columns"
                        + " WHERE table_schema = 'public' AND table_name <> 'flyway_schema_history' ORDER BY 1"),
                strings(dsl, "SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') -> '"
                        + " || pg_get_function_result(p.oid) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                        + " WHERE n.nspname = 'public' ORDER BY 1"),
                strings(dsl, "SELECT viewname FROM pg_views WHERE schemaname = 'public' ORDER BY 1"),
                strings(dsl, "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'"
                        + " AND tablename <> 'flyway_schema_history' ORDER BY 1"),
                strings(dsl, "SELECT conrelid::regclass || ' ' || pg_get_constraintdef(oid) FROM pg_constraint"
                        + " WHERE connamespace = 'public'::regnamespace"
                        + " AND conrelid <> coalesce(to_regclass('flyway_schema_history'), 0)::oid ORDER BY 1"));
    }

    private static List<String> strings(DSLContext dsl, String sql) {
        return dsl.fetch(sql).getValues(0, String.class);
    }
}
