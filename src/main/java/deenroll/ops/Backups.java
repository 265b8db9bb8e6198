package deenroll.ops;

import deenroll.config.UsageException;
import deenroll.db.Catalog;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The procedure's `leads_backup_YYYYMMDD` / `campaigns_backup_YYYYMMDD` tables:
 * full copies taken in one REPEATABLE READ transaction (both tables from the
 * same snapshot), verified by row count; and the restore of the de-enrollment
 * state from them.
 */
public final class Backups {

    private static final Pattern DAY = Pattern.compile("\\d{8}");
    static final List<String> LEAD_STATE = List.of("is_active", "completed_at", "campaign_history");
    /** Every column migration 0020 adds: a rollback of 0020 drops them, `migrate` re-creates them with defaults. */
    static final List<String> CAMPAIGN_STATE = List.of("is_active", "active_leads_count", "completed_leads_count",
            "opted_out_count", "booked_count", "deactivated_at", "last_enrollment_at", "auto_discovered");

    private final DSLContext dsl;
    private final Catalog catalog;

    public Backups(DSLContext dsl) {
        this.dsl = dsl;
        this.catalog = new Catalog(dsl);
    }

    /** Today in the database's time zone, as the table suffix. */
    public String today() {
        return dsl.fetchValue(DSL.field("to_char(now(), 'YYYYMMDD')", String.class));
    }

    public boolean exists(String day) {
        return catalog.relationExists("leads_backup_" + day) && catalog.relationExists("campaigns_backup_" + day);
    }

    public OpsReport backup(boolean replace) {
        String day = today();
        String leads = "leads_backup_" + day;
        String campaigns = "campaigns_backup_" + day;
        if (!replace && (catalog.relationExists(leads) || catalog.relationExists(campaigns))) {
            throw new UsageException("backup: " + leads + " or " + campaigns
                    + " exists already; pass --replace to overwrite today's backup");
        }
        Map<String, Object> json = new LinkedHashMap<>();
        List<String> lines = new java.util.ArrayList<>();
        dsl.transaction(cfg -> {
            DSLContext tx = cfg.dsl();
            tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
            for (String[] t : new String[][] {{"leads", leads}, {"campaigns", campaigns}}) {
                tx.execute("DROP TABLE IF EXISTS " + t[1]);
                tx.execute("CREATE TABLE " + t[1] + " AS TABLE " + t[0]);
                long source = tx.fetchCount(DSL.table(DSL.name(t[0])));
                long copy = tx.fetchCount(DSL.table(DSL.name(t[1])));
                if (source != copy) {
                    throw new IllegalStateException(t[1] + " has " + copy + " rows, " + t[0] + " has " + source);
                }
                String size = tx.fetchValue(DSL.field("pg_size_pretty(pg_total_relation_size({0}::regclass))",
                        String.class, DSL.inline(t[1])));
                json.put(t[1], Map.of("rows", copy, "size", size));
                lines.add(String.format("%s: %d rows (= %s), %s", t[1], copy, t[0], size));
            }
        });
        lines.add("verified: row counts match; restore with `deenroll restore --from " + day + "`");
        json.put("day", day);
        return new OpsReport(lines, json, false);
    }

    /**
     * Puts back is_active, completed_at, campaign_history (leads) and the flags
     * and counters (campaigns) from the backup of {@code day}, in one transaction.
     * Rows added since the backup are left as they are. Must run while the
     * columns exist, i.e. before a rollback of 0019/0020, or after `migrate`.
     */
    public OpsReport restore(String day) {
        if (!DAY.matcher(day).matches()) {
            throw new UsageException("--from: expected a date as YYYYMMDD");
        }
        String leads = "leads_backup_" + day;
        String campaigns = "campaigns_backup_" + day;
        if (!exists(day)) {
            throw new UsageException("restore: no backup " + leads + " / " + campaigns + " in this database");
        }
        requireColumns(leads, "leads", LEAD_STATE);
        requireColumns(campaigns, "campaigns", CAMPAIGN_STATE);
        int[] restored = new int[2];
        dsl.transaction(cfg -> {
            DSLContext tx = cfg.dsl();
            restored[0] = tx.execute("UPDATE leads AS l SET " + assignments(LEAD_STATE) + " FROM " + leads
                    + " AS b WHERE b.id = l.id AND (" + tuple("l", LEAD_STATE) + ") IS DISTINCT FROM ("
                    + tuple("b", LEAD_STATE) + ")");
            restored[1] = tx.execute("UPDATE campaigns AS l SET " + assignments(CAMPAIGN_STATE) + " FROM " + campaigns
                    + " AS b WHERE b.id = l.id AND (" + tuple("l", CAMPAIGN_STATE) + ") IS DISTINCT FROM ("
                    + tuple("b", CAMPAIGN_STATE) + ")");
        });
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("day", day);
        json.put("leadsRestored", restored[0]);
        json.put("campaignsRestored", restored[1]);
        return new OpsReport(List.of(
                "restored from " + leads + ": " + restored[0] + " lead(s) changed back (" + String.join(", ", LEAD_STATE) + ")",
                "restored from " + campaigns + ": " + restored[1] + " campaign(s) changed back (" + String.join(", ", CAMPAIGN_STATE) + ")",
                "next: `deenroll verify` (leads added since the backup keep their state; `deenroll reconcile-stats` fixes counters if verify finds drift)"),
                json, false);
    }

    private void requireColumns(String backup, String live, List<String> columns) {
        Set<String> inBackup = catalog.columns(backup);
        Set<String> inLive = catalog.columns(live);
        List<String> missing = columns.stream().filter(c -> !inBackup.contains(c) || !inLive.contains(c)).toList();
        if (!missing.isEmpty() || !inBackup.contains("id")) {
            throw new UsageException("restore: " + backup + " and " + live + " do not both have the columns "
                    + String.join(", ", missing.isEmpty() ? List.of("id") : missing)
                    + " (restore before rolling back 0019/0020, or after `deenroll migrate`)");
        }
    }

    private static String assignments(List<String> columns) {
        return columns.stream().map(c -> c + " = b." + c).collect(Collectors.joining(", "));
    }

    private static String tuple(String alias, List<String> columns) {
        return columns.stream().map(c -> alias + "." + c).collect(Collectors.joining(", "));
    }
}
