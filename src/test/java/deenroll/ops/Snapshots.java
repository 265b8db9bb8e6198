package deenroll.ops;

import deenroll.support.TestDatabase;

import java.util.ArrayList;
import java.util.List;

/**
 * Row-by-row pictures of a database, ordered by id, so two pictures are equal
 * exactly when the state is, and AssertJ shows the rows that differ.
 */
final class Snapshots {

    private Snapshots() {
    }

    /** The de-enrollment state of every lead: what backup/restore is for. */
    static List<String> leadState(TestDatabase db) {
        return Sql.strings(db, "SELECT id::text || ' ' || row(is_active, completed_at, campaign_history)::text"
                + " FROM leads ORDER BY id");
    }

    /** The flags and counters of every campaign. */
    static List<String> campaignState(TestDatabase db) {
        return Sql.strings(db, "SELECT id::text || ' ' || row(is_active, deactivated_at, active_leads_count,"
                + " completed_leads_count, opted_out_count, booked_count)::text FROM campaigns ORDER BY id");
    }

    /** Every column the host application owns (contract/host-schema.sql), of every host row. */
    static List<String> hostData(TestDatabase db) {
        List<String> rows = new ArrayList<>();
        rows.addAll(Sql.strings(db, "SELECT 'client ' || id::text || ' ' || row(name, is_active, created_at)::text"
                + " FROM clients ORDER BY id"));
        rows.addAll(Sql.strings(db, "SELECT 'campaign ' || id::text || ' ' || row(client_id, name, message_template,"
                + " messages, is_paused, created_at, updated_at)::text FROM campaigns ORDER BY id"));
        rows.addAll(Sql.strings(db, "SELECT 'lead ' || id::text || ' ' || row(client_id, campaign_link_id, first_name,"
                + " last_name, phone, email, current_message_position, is_active, opted_out, booked, enrolled_at,"
                + " last_message_at, created_at, updated_at)::text FROM leads ORDER BY id"));
        return rows;
    }

    /** Every row of {@code table} as JSON text (all columns), ordered by {@code orderBy}. */
    static List<String> table(TestDatabase db, String table, String orderBy) {
        return Sql.strings(db, "SELECT to_jsonb(t)::text FROM " + table + " t ORDER BY " + orderBy);
    }

    /**
     * The schema's shape: relations, columns, indexes, constraints, functions.
     * Flyway's own history table and the backup tables are left out: they are
     * not part of the tool's schema, and the rollback keeps them on purpose.
     */
    static List<String> schemaShape(TestDatabase db) {
        List<String> shape = new ArrayList<>();
        shape.addAll(Sql.strings(db, "SELECT 'relation ' || relname || ' ' || relkind::text FROM pg_class"
                + " WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'v', 'm', 'S', 'i', 'p')"));
        shape.addAll(Sql.strings(db, "SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' '"
                + " || is_nullable || ' ' || coalesce(column_default, '') FROM information_schema.columns"
                + " WHERE table_schema = current_schema()"));
        shape.addAll(Sql.strings(db, "SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes"
                + " WHERE schemaname = current_schema()"));
        shape.addAll(Sql.strings(db, "SELECT 'constraint ' || conrelid::regclass::text || '.' || conname || ' '"
                + " || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = current_schema()::regnamespace"));
        shape.addAll(Sql.strings(db, "SELECT 'function ' || oid::regprocedure::text FROM pg_proc"
                + " WHERE pronamespace = current_schema()::regnamespace"));
        return shape.stream()
                .filter(line -> !line.contains("flyway_schema_history") && !line.contains("_backup_"))
                .sorted()
                .toList();
    }
}
