package deenroll.ops;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;

import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What `deenroll backup` writes, as the comment on the backup's leads table:
 * when the copy was taken and the row count it verified for every table it
 * copied. A comment, not a row in a tool table: the record must survive a
 * rollback to 18, which drops every tool table but keeps the backups. A table
 * named like a backup without this record (created by hand, or empty) is not
 * a backup, nor is one whose rows no longer match the counts recorded.
 */
public record BackupRecord(String day, OffsetDateTime takenAt, Map<String, Long> rows) {

    static final String TOOL = "deenroll backup";
    private static final ObjectMapper JSON = new ObjectMapper();

    public static String leadsTable(String day) {
        return "leads_backup_" + day;
    }

    public static String campaignsTable(String day) {
        return "campaigns_backup_" + day;
    }

    public boolean withHistory() {
        return rows.containsKey(Backups.historyCopy("de_enrollment_lead_log", day));
    }

    /** The record as the comment text; the time is the database's, as the runs' finished_at it is compared with. */
    static String comment(DSLContext tx, Map<String, Long> rows) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("tool", TOOL);
        doc.put("takenAt", tx.fetchValue(DSL.field("to_char(transaction_timestamp() AT TIME ZONE 'UTC',"
                + " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')", String.class)));
        doc.put("rows", rows);
        try {
            return JSON.writeValueAsString(doc);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The record of {@code day}'s backup, or why there is none: empty when
     * the leads table has no comment written by `deenroll backup`.
     */
    static Optional<BackupRecord> read(DSLContext dsl, String day) {
        String comment = dsl.fetchValue(DSL.field("obj_description(to_regclass({0}), 'pg_class')", String.class,
                DSL.val(leadsTable(day))));
        if (comment == null) {
            return Optional.empty();
        }
        try {
            JsonNode doc = JSON.readTree(comment);
            if (!TOOL.equals(doc.path("tool").asText()) || !doc.path("rows").isObject()) {
                return Optional.empty();
            }
            Map<String, Long> rows = new LinkedHashMap<>();
            doc.get("rows").fields().forEachRemaining(e -> rows.put(e.getKey(), e.getValue().asLong()));
            return Optional.of(new BackupRecord(day, OffsetDateTime.parse(doc.path("takenAt").asText()), rows));
        } catch (JsonProcessingException | java.time.format.DateTimeParseException e) {
            return Optional.empty();
        }
    }

    /** The first recorded table that is missing or whose row count differs from the record, described. */
    Optional<String> mismatch(DSLContext dsl) {
        for (Map.Entry<String, Long> t : rows.entrySet()) {
            if (!dsl.fetchValue(DSL.field("to_regclass({0}) IS NOT NULL", Boolean.class, DSL.val(t.getKey())))) {
                return Optional.of(t.getKey() + " is missing");
            }
            long now = dsl.fetchCount(DSL.table(DSL.name(t.getKey())));
            if (now != t.getValue()) {
                return Optional.of(t.getKey() + " has " + now + " rows, the backup recorded " + t.getValue());
            }
        }
        return Optional.empty();
    }
}
