package deenroll.ops;

import deenroll.config.UsageException;
import deenroll.db.Catalog;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Runs db/rollback scripts from the current version down to a target, newest
 * first, each in its own transaction together with the removal of its Flyway
 * history row, so a later `migrate` re-applies it. Refuses without today's
 * backup unless forced: a rollback of 0019 drops completion data.
 */
public final class Rollback {

    private static final Map<Integer, String> SCRIPTS = Map.of(
            19, "U19__completion_tracking.sql",
            20, "U20__campaign_model.sql",
            21, "U21__de_enrollment_monitoring.sql",
            22, "U22__runs_archive.sql",
            23, "U23__alert_state.sql",
            24, "U24__server_side_runs.sql",
            25, "U25__lead_log_by_time.sql",
            26, "U26__client_claims.sql",
            27, "U27__invocations.sql");
    /** Where a rollback can stop: below each script's version, so 18 (before deenroll) up to the one before the newest. */
    private static final List<Integer> TARGETS = SCRIPTS.keySet().stream().map(v -> v - 1).sorted().toList();

    private final DSLContext dsl;
    private final Backups backups;

    public Rollback(DSLContext dsl) {
        this.dsl = dsl;
        this.backups = new Backups(dsl);
    }

    public OpsReport to(int target, boolean force) {
        if (!TARGETS.contains(target)) {
            throw new UsageException("--to: expected one of " + TARGETS.stream().map(String::valueOf)
                    .collect(Collectors.joining(", ")) + ", got " + target);
        }
        int current = currentVersion();
        List<String> lines = new ArrayList<>();
        String today = backups.today();
        if (!backups.exists(today)) {
            if (!force) {
                throw new UsageException("rollback: no backup from today (leads_backup_" + today
                        + ", campaigns_backup_" + today + "); run `deenroll backup` first, or pass --force to roll back without one");
            }
            lines.add("--force: rolling back WITHOUT a backup from today; completion data dropped with 0019 cannot be restored");
        }
        List<Integer> done = new ArrayList<>();
        for (int version = current; version > target; version--) {
            String script = SCRIPTS.get(version);
            if (script == null) {
                throw new IllegalStateException("no rollback script for version " + version);
            }
            String sql = read("/db/rollback/" + script);
            int v = version;
            dsl.transaction(cfg -> {
                // plain JDBC: the script is SQL as psql runs it, not a jOOQ template
                cfg.dsl().connection(c -> {
                    try (Statement statement = c.createStatement()) {
                        statement.execute(sql);
                    }
                });
                cfg.dsl().execute("DELETE FROM flyway_schema_history WHERE version = {0}", DSL.inline(String.valueOf(v)));
            });
            lines.add("rolled back " + version + " (" + script + ")");
            done.add(version);
        }
        if (done.isEmpty()) {
            lines.add("schema is at version " + current + ", nothing to roll back to " + target);
        } else {
            lines.add("schema is now at version " + target + "; host rows untouched; `deenroll migrate` re-applies");
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("from", current);
        json.put("to", target);
        json.put("rolledBack", done);
        json.put("forcedWithoutBackup", force && !backups.exists(today));
        return new OpsReport(lines, json, false);
    }

    private int currentVersion() {
        if (!new Catalog(dsl).relationExists("flyway_schema_history")) {
            throw new UsageException("rollback: no Flyway history in this database; was it migrated with `deenroll migrate`?");
        }
        Integer version = dsl.fetchValue(DSL.field(
                "(SELECT max(version::integer) FROM flyway_schema_history WHERE success AND version ~ '^[0-9]+$')", Integer.class));
        return version == null ? 18 : version;
    }

    private static String read(String resource) {
        try (InputStream in = Rollback.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
