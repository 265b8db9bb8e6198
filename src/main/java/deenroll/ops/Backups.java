package deenroll.ops;

import deenroll.config.UsageException;
import deenroll.db.Catalog;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The procedure's `leads_backup_YYYYMMDD` / `campaigns_backup_YYYYMMDD` tables
 * (and, with history, copies of the run history and lead log): full copies
 * taken in one REPEATABLE READ transaction (every table from the same
 * snapshot), verified by row count and recorded ({@link BackupRecord}).
 */
public final class Backups {

    static final Pattern DAY = Pattern.compile("\\d{8}");
    /** The tool's tables that U21/U22 drop and a plain backup does not copy. */
    static final List<String> HISTORY = List.of("de_enrollment_runs", "de_enrollment_lead_log", "de_enrollment_runs_archive");

    private final DSLContext dsl;
    private final Catalog catalog;

    public Backups(DSLContext dsl) {
        this.dsl = dsl;
        this.catalog = new Catalog(dsl);
    }

    static String historyCopy(String table, String day) {
        return table + "_backup_" + day;
    }

    /** Today in the database's time zone, as the table suffix. */
    public String today() {
        return dsl.fetchValue(DSL.field("to_char(now(), 'YYYYMMDD')", String.class));
    }

    public OpsReport backup(boolean replace, boolean withHistory) {
        String day = today();
        List<String[]> copies = new ArrayList<>();
        copies.add(new String[] {"leads", BackupRecord.leadsTable(day)});
        copies.add(new String[] {"campaigns", BackupRecord.campaignsTable(day)});
        if (withHistory) {
            HISTORY.stream().filter(catalog::relationExists).forEach(t -> copies.add(new String[] {t, historyCopy(t, day)}));
        }
        List<String> everyName = new ArrayList<>(List.of(BackupRecord.leadsTable(day), BackupRecord.campaignsTable(day)));
        HISTORY.forEach(t -> everyName.add(historyCopy(t, day)));
        if (!replace && everyName.stream().anyMatch(catalog::relationExists)) {
            throw new UsageException("backup: today's backup (" + BackupRecord.leadsTable(day) + ", …) exists already;"
                    + " pass --replace to overwrite it");
        }
        Map<String, Object> json = new LinkedHashMap<>();
        List<String> lines = new ArrayList<>();
        dsl.transaction(cfg -> {
            DSLContext tx = cfg.dsl();
            tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
            // a replaced backup with history must not keep yesterday's copy of the history beside today's leads
            everyName.forEach(name -> tx.execute("DROP TABLE IF EXISTS " + name));
            Map<String, Long> rows = new LinkedHashMap<>();
            for (String[] t : copies) {
                tx.execute("CREATE TABLE " + t[1] + " AS TABLE " + t[0]);
                long source = tx.fetchCount(DSL.table(DSL.name(t[0])));
                long copy = tx.fetchCount(DSL.table(DSL.name(t[1])));
                if (source != copy) {
                    throw new IllegalStateException(t[1] + " has " + copy + " rows, " + t[0] + " has " + source);
                }
                rows.put(t[1], copy);
                String size = tx.fetchValue(DSL.field("pg_size_pretty(pg_total_relation_size({0}::regclass))",
                        String.class, DSL.inline(t[1])));
                json.put(t[1], Map.of("rows", copy, "size", size));
                lines.add(String.format("%s: %d rows (= %s), %s", t[1], copy, t[0], size));
            }
            tx.execute("COMMENT ON TABLE " + BackupRecord.leadsTable(day) + " IS " + DSL.inline(BackupRecord.comment(tx, rows)));
        });
        lines.add("verified and recorded: row counts match; `deenroll restore --from " + day + "` shows what it would put back");
        json.put("day", day);
        json.put("withHistory", withHistory);
        return new OpsReport(lines, json, false);
    }

    /** The days with a table named like a backup's leads table, newest first, recorded or not. */
    List<String> days() {
        return dsl.fetch("SELECT substr(relname, 14) FROM pg_class WHERE relkind = 'r'"
                        + " AND relnamespace = current_schema()::regnamespace AND relname LIKE 'leads_backup_%'"
                        // no braces in the pattern: jOOQ's plain SQL reads {8} as a bind placeholder
                        + " AND length(relname) = 21 AND substr(relname, 14) ~ '^[0-9]+$'"
                        + " ORDER BY 1 DESC")
                .getValues(0, String.class);
    }

    /** {@code day}'s backup, verified; a {@link UsageException} (exit 2) saying why it cannot be used. */
    public BackupRecord verified(String day) {
        if (!DAY.matcher(day).matches()) {
            throw new UsageException("--from: expected a date as YYYYMMDD");
        }
        if (!catalog.relationExists(BackupRecord.leadsTable(day)) || !catalog.relationExists(BackupRecord.campaignsTable(day))) {
            throw new UsageException("no backup " + BackupRecord.leadsTable(day) + " / " + BackupRecord.campaignsTable(day)
                    + " in this database");
        }
        BackupRecord record = BackupRecord.read(dsl, day).orElseThrow(() -> new UsageException(
                BackupRecord.leadsTable(day) + " was not taken by `deenroll backup` (no backup record on it);"
                        + " take one with `deenroll backup`"));
        record.mismatch(dsl).ifPresent(why -> {
            throw new UsageException("the backup of " + day + " changed since it was taken: " + why);
        });
        return record;
    }

    /** The newest backup that `deenroll backup` recorded and whose tables still match the record. */
    public Optional<BackupRecord> newestVerified() {
        return days().stream().flatMap(d -> BackupRecord.read(dsl, d).stream())
                .filter(r -> r.mismatch(dsl).isEmpty())
                .findFirst();
    }

    /**
     * Drops the backups (every table of the day) older than {@code retentionDays},
     * never the newest, whatever its age: it may be the only way back.
     */
    List<String> prune(int retentionDays, boolean dryRun) {
        List<String> days = days();
        String cutoff = dsl.fetchValue(DSL.field("to_char(now() - make_interval(days => {0}), 'YYYYMMDD')",
                String.class, DSL.inline(retentionDays)));
        List<String> old = days.stream().skip(1).filter(d -> d.compareTo(cutoff) < 0).toList();
        if (!dryRun) {
            dsl.transaction(cfg -> old.forEach(d -> {
                List<String> tables = new ArrayList<>(List.of(BackupRecord.leadsTable(d), BackupRecord.campaignsTable(d)));
                HISTORY.forEach(t -> tables.add(historyCopy(t, d)));
                tables.forEach(t -> cfg.dsl().execute("DROP TABLE IF EXISTS " + t));
            }));
        }
        return old;
    }
}
