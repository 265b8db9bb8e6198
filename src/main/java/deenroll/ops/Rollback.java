package deenroll.ops;

import deenroll.config.UsageException;
import deenroll.control.Pause;
import deenroll.control.Quiescence;
import deenroll.control.Timestamps;
import deenroll.db.Catalog;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;

import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Runs db/rollback scripts from the current version down to a target, newest
 * first, each in its own transaction together with the removal of its Flyway
 * history row, so a later `migrate` re-applies it. It always shows its plan
 * first: per script, what it drops and how many rows go with it. It applies
 * only when asked (--yes), while de-enrollment is paused and nothing runs
 * (a run would have its functions dropped under it), and, unless forced, with
 * a backup recorded by `deenroll backup` after the last finished run: a
 * rollback of 0019 drops completion data that only that backup keeps.
 */
public final class Rollback {

    private static final Map<Integer, String> SCRIPTS = Map.ofEntries(
            Map.entry(19, "U19__completion_tracking.sql"),
            Map.entry(20, "U20__campaign_model.sql"),
            Map.entry(21, "U21__de_enrollment_monitoring.sql"),
            Map.entry(22, "U22__runs_archive.sql"),
            Map.entry(23, "U23__alert_state.sql"),
            Map.entry(24, "U24__server_side_runs.sql"),
            Map.entry(25, "U25__lead_log_by_time.sql"),
            Map.entry(26, "U26__client_claims.sql"),
            Map.entry(27, "U27__invocations.sql"),
            Map.entry(28, "U28__invocation_position.sql"),
            Map.entry(29, "U29__restore_marks.sql"),
            Map.entry(30, "U30__idle_clients_set_based.sql"),
            Map.entry(31, "U31__health_by_time.sql"),
            Map.entry(32, "U32__clients_with_work_grouped.sql"),
            Map.entry(33, "U33__report_indexes.sql"),
            Map.entry(34, "U34__invocation_runs.sql"));
    /** Where a rollback can stop: 18 (before deenroll) or any version with a script, up to the one before the newest. */
    private static final List<Integer> TARGETS = Stream.concat(Stream.of(18),
                    SCRIPTS.keySet().stream().filter(v -> v < Collections.max(SCRIPTS.keySet())))
            .sorted().toList();

    private final DSLContext dsl;
    private final Catalog catalog;

    public Rollback(DSLContext dsl) {
        this.dsl = dsl;
        this.catalog = new Catalog(dsl);
    }

    public OpsReport to(int target, boolean apply, boolean force) {
        if (!TARGETS.contains(target)) {
            throw new UsageException("--to: expected one of " + TARGETS.stream().map(String::valueOf)
                    .collect(Collectors.joining(", ")) + ", got " + target);
        }
        int current = currentVersion();
        List<RollbackScript> scripts = new ArrayList<>();
        for (int version : appliedAbove(target)) {
            String file = SCRIPTS.get(version);
            if (file == null) {
                throw new IllegalStateException("no rollback script for version " + version);
            }
            scripts.add(RollbackScript.load(version, file));
        }
        List<String> lines = new ArrayList<>();
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("from", current);
        json.put("to", target);
        if (scripts.isEmpty()) {
            lines.add("schema is at version " + current + ", nothing to roll back to " + target);
            json.put("plan", List.of());
            json.put("rolledBack", List.of());
            return new OpsReport(lines, json, false);
        }
        lines.add("plan: version " + current + " → " + target + (apply ? "" : " (nothing changed; `--yes` applies it)"));
        List<Map<String, Object>> plan = new ArrayList<>();
        long historyRows = 0;
        for (RollbackScript script : scripts) {
            List<Map<String, Object>> drops = new ArrayList<>();
            // one line per kind of object, so a script's plan reads as tables, columns, views, functions
            Map<String, List<String>> byKind = new LinkedHashMap<>();
            for (RollbackScript.Drop drop : script.drops()) {
                Optional<Long> rows = rows(drop);
                if (drop.table() == null && Backups.HISTORY.contains(drop.name())) {
                    historyRows += rows.orElse(0L);
                }
                String name = (drop.table() == null ? "" : drop.table() + ".") + drop.name();
                byKind.computeIfAbsent(drop.kind(), k -> new ArrayList<>()).add(name + rows.map(n -> " (" + n
                        + (drop.table() == null ? " row(s)" : " value(s) other than its default") + ")").orElse(""));
                Map<String, Object> d = new LinkedHashMap<>();
                d.put("kind", drop.kind());
                d.put("name", drop.name());
                d.put("table", drop.table());
                d.put("rows", rows.orElse(null));
                drops.add(d);
            }
            lines.add("  " + script.version() + " " + script.file() + " drops:");
            byKind.forEach((kind, names) -> lines.add("    " + kind + ": " + String.join(", ", names)));
            Map<String, Object> step = new LinkedHashMap<>();
            step.put("version", script.version());
            step.put("script", script.file());
            step.put("drops", drops);
            plan.add(step);
        }
        json.put("plan", plan);

        if (apply) {
            // first: once nothing runs, no run finishes between the backup check below and the scripts
            lines.add(requireQuiet(current, force));
        }
        Optional<OffsetDateTime> lastFinished = lastFinishedRun();
        Optional<BackupRecord> backup = new Backups(dsl).newestVerified()
                .filter(b -> lastFinished.isEmpty() || !b.takenAt().isBefore(lastFinished.get()));
        String after = lastFinished.map(t -> "after the last finished run (" + Timestamps.text(t) + ")").orElse("(no run finished yet)");
        lines.add(backup.map(b -> "✅ backup " + b.day() + " taken " + Timestamps.text(b.takenAt()) + " " + after
                        + ", row counts as recorded" + (b.withHistory() ? ", with the run history and lead log" : ""))
                .orElse("❌ no backup recorded by `deenroll backup` " + after + ": take one with `deenroll backup`"));
        boolean historyKept = backup.map(BackupRecord::withHistory).orElse(false);
        if (historyRows > 0 && !historyKept) {
            lines.add("⚠️ " + historyRows + " row(s) of run history and lead log go with it; to keep them:"
                    + " `deenroll backup --replace --with-history` first");
        }
        json.put("backup", backup.map(b -> Map.<String, Object>of("day", b.day(), "takenAt", Timestamps.json(b.takenAt()),
                "withHistory", b.withHistory())).orElse(null));
        json.put("historyRowsDropped", historyRows);
        json.put("applied", apply);
        if (!apply) {
            json.put("rolledBack", List.of());
            return new OpsReport(lines, json, false);
        }

        if (backup.isEmpty()) {
            if (!force) {
                throw new UsageException("rollback: no backup recorded by `deenroll backup` " + after
                        + "; run `deenroll backup` first, or pass --force to roll back without one");
            }
            lines.add("--force: rolling back WITHOUT a backup; completion data dropped with 0019 cannot be restored");
        }
        List<Integer> done = new ArrayList<>();
        for (RollbackScript script : scripts) {
            dsl.transaction(cfg -> {
                // plain JDBC: the script is SQL as psql runs it, not a jOOQ template
                cfg.dsl().connection(c -> {
                    try (Statement statement = c.createStatement()) {
                        statement.execute(script.sql());
                    }
                });
                cfg.dsl().execute("DELETE FROM flyway_schema_history WHERE version = {0}",
                        DSL.inline(String.valueOf(script.version())));
            });
            lines.add("rolled back " + script.version() + " (" + script.file() + ")");
            done.add(script.version());
        }
        lines.add("schema is now at version " + target + "; host rows untouched; `deenroll migrate` re-applies");
        json.put("rolledBack", done);
        json.put("forcedWithoutBackup", backup.isEmpty());
        return new OpsReport(lines, json, false);
    }

    /** Refuses unless paused with nothing running; a schema before 0027 cannot tell, so only --force goes on. */
    private String requireQuiet(int current, boolean force) {
        Quiescence quiescence = new Quiescence(dsl);
        if (quiescence.checkable()) {
            Pause pause = quiescence.require("rollback");
            return "⏸ paused " + pause.since() + "; no invocation running";
        }
        if (!force) {
            throw new UsageException("rollback: schema version " + current + " keeps no pause and no invocations, so"
                    + " this cannot see runs on other hosts; stop the schedule and every run yourself, then pass --force");
        }
        return "--force: schema " + current + " keeps no pause; the schedule and every run must be stopped already";
    }

    /** The rows a dropped table holds, or the values other than its default a dropped column holds; empty for the rest. */
    private Optional<Long> rows(RollbackScript.Drop drop) {
        if (drop.table() == null) {
            return drop.kind().equals("table") && catalog.relationExists(drop.name())
                    ? Optional.of((long) dsl.fetchCount(DSL.table(DSL.name(drop.name())))) : Optional.empty();
        }
        if (!catalog.columns(drop.table()).contains(drop.name())) {
            return Optional.empty();
        }
        String byDefault = dsl.fetchValue(DSL.field("(SELECT column_default FROM information_schema.columns"
                + " WHERE table_schema = current_schema() AND table_name = {0} AND column_name = {1})", String.class,
                DSL.val(drop.table()), DSL.val(drop.name())));
        return Optional.of(dsl.fetchValue(DSL.field("(SELECT count(*) FROM " + drop.table() + " WHERE " + drop.name()
                + " IS DISTINCT FROM (" + (byDefault == null ? "NULL" : byDefault) + "))", Long.class)));
    }

    private Optional<OffsetDateTime> lastFinishedRun() {
        if (!catalog.relationExists("de_enrollment_runs")) {
            return Optional.empty();
        }
        return Optional.ofNullable(dsl.fetchValue(DSL.field("(SELECT max(finished_at) FROM de_enrollment_runs)",
                OffsetDateTime.class)));
    }

    /** The versions Flyway applied above {@code target}, newest first: the scripts to run, in that order. */
    private List<Integer> appliedAbove(int target) {
        return dsl.fetch("SELECT version::integer FROM flyway_schema_history WHERE success AND version ~ '^[0-9]+$'"
                        + " AND version::integer > " + target + " ORDER BY 1 DESC")
                .getValues(0, Integer.class);
    }

    private int currentVersion() {
        if (!catalog.relationExists("flyway_schema_history")) {
            throw new UsageException("rollback: no Flyway history in this database; was it migrated with `deenroll migrate`?");
        }
        Integer version = dsl.fetchValue(DSL.field(
                "(SELECT max(version::integer) FROM flyway_schema_history WHERE success AND version ~ '^[0-9]+$')", Integer.class));
        return version == null ? 18 : version;
    }
}
