package deenroll.ops;

import deenroll.config.UsageException;
import deenroll.db.ReportReads;
import deenroll.health.ClientRef;
import deenroll.health.Finding;
import deenroll.health.HealthCheck;
import deenroll.health.HealthReport;
import deenroll.health.StuckLeads;
import deenroll.health.Thresholds;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;
import org.jooq.impl.SQLDataType;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static deenroll.db.Among.among;

/**
 * The operating procedure's read-only reports: the morning check, the weekly
 * review, one lead's story, and index usage. Every query reads the same views
 * and functions the engine and the health check use.
 */
public final class Reports {

    private final DSLContext dsl;

    public Reports(DSLContext dsl) {
        this.dsl = dsl;
    }

    /** The morning check; what needs attention is health-check's verdict by {@code limits}, health-check's own. */
    public OpsReport daily(Thresholds limits) {
        return ReportReads.inOneTransaction(dsl, tx -> new Reports(tx).dailyReads(limits));
    }

    private OpsReport dailyReads(Thresholds limits) {
        Map<String, Object> runs = dsl.resultQuery("SELECT count(*) AS runs, count(DISTINCT invocation_id) AS invocations,"
                + " count(*) FILTER (WHERE status = 'success') AS successes,"
                + " count(*) FILTER (WHERE status = 'failed') AS failures,"
                + " count(*) FILTER (WHERE status = 'partial') AS partials,"
                + " count(*) FILTER (WHERE status = 'running') AS running,"
                + " coalesce(sum(leads_de_enrolled), 0) AS leads_de_enrolled,"
                + " coalesce(sum(leads_failed), 0) AS leads_failed"
                + " FROM de_enrollment_runs WHERE run_at > now() - interval '24 hours'").fetchOneMap();
        HealthReport health = new HealthCheck(dsl, limits).assess();
        List<Finding> problems = health.problems();
        List<UUID> named = problems.stream().flatMap(p -> p.client().stream()).map(ClientRef::id).distinct().toList();
        // the view reads every client's last day; with no client named there is nothing to read it for
        List<Map<String, Object>> attention = named.isEmpty() ? List.of() : dsl.resultQuery("SELECT client_id, client_name, failed_runs_24h,"
                + " hours_since_success, last_success FROM de_enrollment_health WHERE {0}"
                + " ORDER BY failed_runs_24h DESC, hours_since_success DESC NULLS FIRST, client_name",
                among(DSL.field(DSL.name("client_id"), SQLDataType.UUID), named.toArray(UUID[]::new))).fetchMaps();
        int stuck = dsl.fetchCount(StuckLeads.idleLongerThan(limits.stuckGrace()));
        List<String> lines = new ArrayList<>();
        lines.add("Last 24 hours");
        lines.add(String.format("  invocations %s, client runs %s: %s success, %s partial, %s failed, %s running",
                runs.get("invocations"), runs.get("runs"), runs.get("successes"), runs.get("partials"),
                runs.get("failures"), runs.get("running")));
        lines.add(String.format("  leads de-enrolled %s, leads failed %s", runs.get("leads_de_enrolled"), runs.get("leads_failed")));
        lines.add("  stuck leads now: " + stuck);
        if (problems.isEmpty()) {
            lines.add("✅ nothing needs attention (health-check: OK)");
        } else {
            lines.add("Needs attention (health-check: " + health.level() + "):");
            problems.forEach(p -> lines.add("  " + p.line()));
        }
        Map<String, Object> json = new LinkedHashMap<>(runs);
        json.put("stuckLeads", stuck);
        json.put("healthStatus", health.level().name());
        json.put("needsAttention", problems.stream().map(Finding::json).toList());
        json.put("clientsNeedingAttention", attention);
        return new OpsReport(lines, stringify(json), !problems.isEmpty());
    }

    /** The week's most frequent errors of failed runs and failed leads, each read from its partial index (0033). */
    static final String TOP_ERRORS = "SELECT left(error, 200) AS error, count(*) AS occurrences FROM ("
            + " SELECT error_details AS error FROM de_enrollment_runs WHERE status = 'failed' AND run_at > now() - interval '7 days'"
            + " UNION ALL SELECT error_message FROM de_enrollment_lead_log WHERE action = 'error' AND processed_at > now() - interval '7 days'"
            + ") e GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10";

    public OpsReport weekly() {
        return ReportReads.inOneTransaction(dsl, tx -> new Reports(tx).weeklyReads());
    }

    private OpsReport weeklyReads() {
        // grouped by the day as a timestamp, formatted after: sorting a week of runs by a text key spilled to disk
        List<Map<String, Object>> days = dsl.resultQuery("SELECT to_char(d.day, 'YYYY-MM-DD') AS day, d.runs, d.successes,"
                + " d.failures, d.processed, d.avg_duration_ms FROM (SELECT date_trunc('day', run_at) AS day,"
                + " count(*) AS runs, count(*) FILTER (WHERE status = 'success') AS successes,"
                + " count(*) FILTER (WHERE status = 'failed') AS failures,"
                + " coalesce(sum(leads_de_enrolled), 0) AS processed, round(avg(duration_ms)) AS avg_duration_ms"
                + " FROM de_enrollment_runs WHERE run_at > now() - interval '7 days'"
                + " GROUP BY 1) AS d ORDER BY d.day").fetchMaps();
        List<Map<String, Object>> sizes = dsl.resultQuery("SELECT relname AS table, pg_size_pretty(pg_total_relation_size(relid)) AS size,"
                + " n_live_tup AS rows FROM pg_stat_user_tables WHERE relname IN"
                + " ('leads', 'campaigns', 'de_enrollment_runs', 'de_enrollment_lead_log', 'de_enrollment_runs_archive')"
                + " ORDER BY pg_total_relation_size(relid) DESC").fetchMaps();
        List<Map<String, Object>> errors = dsl.resultQuery(TOP_ERRORS).fetchMaps();
        List<String> lines = new ArrayList<>();
        lines.add("Last 7 days, per day (runs / successes / failures / leads processed / average ms):");
        days.forEach(d -> lines.add(String.format("  %s  %5s %5s %5s %8s %8s", d.get("day"), d.get("runs"), d.get("successes"),
                d.get("failures"), d.get("processed"), d.get("avg_duration_ms"))));
        lines.add("Table sizes:");
        sizes.forEach(s -> lines.add(String.format("  %-28s %10s  ~%s rows", s.get("table"), s.get("size"), s.get("rows"))));
        lines.add(errors.isEmpty() ? "Top errors: none" : "Top errors:");
        errors.forEach(e -> lines.add(String.format("  %5s× %s", e.get("occurrences"), e.get("error"))));
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("days", days);
        json.put("tableSizes", sizes);
        json.put("topErrors", errors);
        return new OpsReport(lines, stringify(json), false);
    }

    public OpsReport lead(UUID leadId) {
        Map<String, Object> lead = dsl.resultQuery("SELECT id, client_id, campaign_link_id, current_message_position,"
                + " is_active, opted_out, booked, completed_at, campaign_history FROM leads WHERE id = {0}", DSL.val(leadId))
                .fetchOneMap();
        if (lead == null) {
            throw new UsageException("report lead: no lead " + leadId + " in this database");
        }
        LeadStory story = LeadStory.of(dsl, leadId);
        List<String> lines = new ArrayList<>();
        lines.add(String.format("Lead %s: position %s, active %s, opted_out %s, booked %s, completed_at %s",
                leadId, lead.get("current_message_position"), lead.get("is_active"), lead.get("opted_out"), lead.get("booked"),
                lead.get("completed_at")));
        lines.addAll(story.lines());
        Map<String, Object> json = new LinkedHashMap<>();
        lead.remove("campaign_history");
        json.put("lead", lead);
        json.put("history", story.history());
        json.put("leadLog", story.leadLog());
        return new OpsReport(lines, stringify(json), false);
    }

    /** Index usage of the tables the job works on; pg_stat_user_indexes names the table `relname`. */
    public OpsReport indexes() {
        List<Map<String, Object>> rows = dsl.resultQuery("SELECT relname AS table, indexrelname AS index, idx_scan AS scans,"
                + " idx_tup_read AS tuples_read, pg_size_pretty(pg_relation_size(indexrelid)) AS size"
                + " FROM pg_stat_user_indexes WHERE relname IN ('leads', 'campaigns', 'de_enrollment_runs', 'de_enrollment_lead_log',"
                + " 'de_enrollment_runs_archive') ORDER BY relname, idx_scan DESC, indexrelname").fetchMaps();
        List<String> lines = new ArrayList<>();
        lines.add(String.format("%-28s %-42s %12s %14s %10s", "table", "index", "scans", "tuples read", "size"));
        rows.forEach(r -> lines.add(String.format("%-28s %-42s %12s %14s %10s", r.get("table"), r.get("index"), r.get("scans"),
                r.get("tuples_read"), r.get("size"))));
        long unused = rows.stream().filter(r -> ((Number) r.get("scans")).longValue() == 0).count();
        lines.add(unused + " index(es) never scanned since statistics were last reset");
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("indexes", rows);
        return new OpsReport(lines, stringify(json), false);
    }

    /** JSON-friendly values: timestamps and uuids as strings. */
    static Map<String, Object> stringify(Map<String, Object> map) {
        Map<String, Object> out = new LinkedHashMap<>();
        map.forEach((k, v) -> out.put(k, value(v)));
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Object value(Object v) {
        if (v instanceof Map<?, ?> m) {
            return stringify((Map<String, Object>) m);
        }
        if (v instanceof List<?> l) {
            return l.stream().map(Reports::value).toList();
        }
        if (v == null || v instanceof Number || v instanceof Boolean || v instanceof String) {
            return v;
        }
        return v.toString();
    }
}
