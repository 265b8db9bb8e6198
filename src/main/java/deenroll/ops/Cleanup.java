package deenroll.ops;

import deenroll.config.UsageException;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;

import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Monthly maintenance: runs older than the retention period move to
 * de_enrollment_runs_archive (every column, one statement, so nothing is lost
 * or copied twice), lead-log rows older than theirs are deleted, backups older
 * than theirs are dropped (never the newest), then VACUUM
 * ANALYZE, which PostgreSQL refuses inside a transaction block, so it runs on
 * its own in autocommit (the old procedure wrapped it in BEGIN … COMMIT).
 */
public final class Cleanup {

    private static final String RUN_COLUMNS = "id, invocation_id, client_id, run_at, run_type, status, leads_evaluated,"
            + " leads_de_enrolled, leads_skipped, leads_failed, batches, by_outcome, duration_ms, error_details,"
            + " finished_at, heartbeat_at, budget_ms, peak_memory_mb, host, pid";

    private final DSLContext dsl;

    public Cleanup(DSLContext dsl) {
        this.dsl = dsl;
    }

    /** The procedure's minimum retention of backups. */
    public static final int MIN_BACKUP_DAYS = 30;

    public OpsReport run(int runDays, int leadLogDays, int backupDays, boolean dryRun) {
        if (runDays < 1 || leadLogDays < 1) {
            throw new UsageException("--runs-days and --lead-log-days: expected at least 1 day");
        }
        if (backupDays < MIN_BACKUP_DAYS) {
            throw new UsageException("--backup-days: expected at least " + MIN_BACKUP_DAYS + " days (the procedure's minimum)");
        }
        String oldRuns = "run_at < now() - make_interval(days => " + runDays + ")";
        String oldLog = "processed_at < now() - make_interval(days => " + leadLogDays + ")";
        int runs;
        int logs;
        if (dryRun) {
            runs = count("de_enrollment_runs", oldRuns + " AND status <> 'running'");
            logs = count("de_enrollment_lead_log", oldLog);
        } else {
            int[] n = new int[2];
            dsl.transaction(cfg -> {
                DSLContext tx = cfg.dsl();
                n[0] = tx.execute("WITH moved AS (DELETE FROM de_enrollment_runs WHERE " + oldRuns
                        + " AND status <> 'running' RETURNING " + RUN_COLUMNS + ")"
                        + " INSERT INTO de_enrollment_runs_archive (" + RUN_COLUMNS + ") SELECT " + RUN_COLUMNS + " FROM moved");
                n[1] = tx.execute("DELETE FROM de_enrollment_lead_log WHERE " + oldLog);
            });
            runs = n[0];
            logs = n[1];
        }
        List<String> pruned = new Backups(dsl).prune(backupDays, dryRun);
        if (!dryRun) {
            vacuumAnalyze();
        }
        List<String> lines = new ArrayList<>();
        String verb = dryRun ? "would " : "";
        lines.add(verb + (dryRun ? "move " : "moved ") + runs + " run(s) older than " + runDays + " days to de_enrollment_runs_archive");
        lines.add(verb + (dryRun ? "delete " : "deleted ") + logs + " lead-log row(s) older than " + leadLogDays + " days");
        lines.add(verb + (dryRun ? "drop " : "dropped ") + pruned.size() + " backup(s) older than " + backupDays
                + " days" + (pruned.isEmpty() ? "" : ": " + String.join(", ", pruned)) + " (the newest is always kept)");
        lines.add(dryRun ? "would VACUUM ANALYZE de_enrollment_runs, de_enrollment_lead_log (nothing changed: --dry-run)"
                : "VACUUM ANALYZE de_enrollment_runs, de_enrollment_lead_log: done");
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("dryRun", dryRun);
        json.put("runsArchived", runs);
        json.put("leadLogDeleted", logs);
        json.put("runsDays", runDays);
        json.put("leadLogDays", leadLogDays);
        json.put("backupsDropped", pruned);
        json.put("backupDays", backupDays);
        return new OpsReport(lines, json, false);
    }

    private int count(String table, String where) {
        return dsl.fetchValue(DSL.field("(SELECT count(*) FROM " + table + " WHERE " + where + ")", Integer.class));
    }

    private void vacuumAnalyze() {
        dsl.connection(c -> {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(true);
            try (Statement s = c.createStatement()) {
                s.execute("VACUUM ANALYZE de_enrollment_runs");
                s.execute("VACUUM ANALYZE de_enrollment_lead_log");
            } finally {
                c.setAutoCommit(autoCommit);
            }
        });
    }
}
