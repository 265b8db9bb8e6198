package deenroll.ops;

import deenroll.db.Catalog;
import deenroll.db.ReportReads;
import deenroll.health.StuckLeads;
import org.jooq.DSLContext;
import org.jooq.Record;
import org.jooq.impl.DSL;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static deenroll.db.schema.Routines.deEnrollmentAbandonedRuns;

/**
 * The post-deploy and incident checks in one: schema present, stuck leads,
 * counter drift, leads processed twice, runs left running. Each problem is
 * named; any problem makes the command exit 1.
 */
public final class Verify {

    private static final List<String> TABLES = List.of("de_enrollment_runs", "de_enrollment_lead_log",
            "de_enrollment_runs_archive", "de_enrollment_health", "de_enrollment_eligible_leads");
    private static final Map<String, List<String>> COLUMNS = Map.of(
            "leads", List.of("completed_at", "campaign_history"),
            "campaigns", List.of("is_active", "active_leads_count", "completed_leads_count", "opted_out_count",
                    "booked_count", "deactivated_at", "last_enrollment_at", "auto_discovered"));
    private static final List<String> FUNCTIONS = List.of(
            "get_leads_for_de_enrollment(uuid,integer,uuid,uuid,integer,uuid)", "process_de_enrollment_batch(uuid,uuid[],uuid[])",
            "de_enrollment_is_eligible(boolean,timestamp with time zone,integer,integer)",
            "de_enrollment_sequence_length(jsonb)", "de_enrollment_outcome(boolean,boolean)",
            "de_enrollment_campaign_counters()", "de_enrollment_stuck_leads(interval)", "de_enrollment_lead_log_of(uuid)");
    private static final List<String> INDEXES = List.of("leads_de_enrollment_pending_idx",
            "de_enrollment_lead_log_run_errors_idx", "de_enrollment_lead_log_processed_idx", "de_enrollment_runs_client_idx");

    /** How many repeatedly failing leads the line names, and the JSON lists (with the total). */
    private static final int SHOWN = 5;
    private static final int LISTED = 100;

    private final DSLContext dsl;
    private final Duration stuckGrace;

    public Verify(DSLContext dsl, Duration stuckGrace) {
        this.dsl = dsl;
        this.stuckGrace = stuckGrace;
    }

    public OpsReport run() {
        return ReportReads.inOneTransaction(dsl, tx -> new Verify(tx, stuckGrace).checks());
    }

    private OpsReport checks() {
        List<String> lines = new ArrayList<>();
        Map<String, Object> json = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();

        List<String> missing = missingSchema();
        json.put("schemaMissing", missing);
        if (!missing.isEmpty()) {
            String problem = "schema incomplete, missing: " + String.join(", ", missing) + " (run `deenroll migrate`)";
            lines.add("❌ " + problem);
            problems.add(problem);
            return finish(lines, json, problems);
        }
        lines.add("✅ schema present: tables, columns, view, functions, indexes");

        var stuck = StuckLeads.idleLongerThan(stuckGrace).as("s");
        Record s = dsl.select(DSL.count(), DSL.min(stuck.LAST_ACTIVITY_AT)).from(stuck).fetchOne();
        int stuckCount = s.get(0, Integer.class);
        OffsetDateTime oldest = s.get(1, OffsetDateTime.class);
        json.put("stuckLeads", Map.of("count", stuckCount, "oldestLastActivity", oldest == null ? "" : oldest.toString()));
        check(lines, problems, stuckCount == 0, "no stuck leads",
                stuckCount + " stuck lead(s), oldest idle since " + oldest + " (run `deenroll run`; see `deenroll health-check`)");

        List<Map<String, Object>> drift = Reconcile.drift(dsl);
        json.put("counterDrift", drift);
        check(lines, problems, drift.isEmpty(), "campaign counters equal their definition",
                drift.size() + " campaign(s) with counter drift: "
                        + drift.stream().limit(5).map(d -> d.get("campaignName") + " [" + d.get("summary") + "]").toList()
                        + " (fix: `deenroll reconcile-stats`)");

        int logDuplicates = dsl.fetchValue(DSL.field("(SELECT count(*) FROM (SELECT lead_id, campaign_id"
                + " FROM de_enrollment_lead_log WHERE action = 'de_enrolled' AND restored_at IS NULL"
                // a de-enrollment a restore undid (0029) is not one of two
                + " GROUP BY lead_id, campaign_id"
                + " HAVING count(*) > 1) d)", Integer.class));
        int historyDuplicates = dsl.fetchValue(DSL.field("(SELECT count(*) FROM leads l WHERE"
                + " jsonb_typeof(l.campaign_history) = 'array' AND EXISTS (SELECT 1 FROM jsonb_array_elements(l.campaign_history) e"
                + " GROUP BY e->>'campaignId', e->>'enrolledAt' HAVING count(*) > 1))", Integer.class));
        json.put("duplicateLeadLog", logDuplicates);
        json.put("duplicateHistory", historyDuplicates);
        check(lines, problems, logDuplicates == 0, "no lead de-enrolled twice in the lead log",
                logDuplicates + " lead(s) with more than one de_enrolled log row for the same campaign");
        check(lines, problems, historyDuplicates == 0, "no duplicate history entries",
                historyDuplicates + " lead(s) whose campaign_history holds the same campaign enrollment twice");

        FailingLeads failing = repeatedlyFailingLeads();
        json.put("repeatedlyFailingLeads", Map.of("count", failing.total(), "leads", failing.leads()));
        check(lines, problems, failing.total() == 0, "no lead failed in more than one run",
                failing.total() + " lead(s) failed in more than one run and are still enrolled"
                        + (failing.total() > SHOWN ? " (the " + SHOWN + " that failed most often)" : "") + ": "
                        + failing.leads().stream().limit(SHOWN).map(f -> f.get("leadId") + " of client " + f.get("clientName")
                                + " (" + f.get("clientId") + "), " + f.get("runs") + " runs, last error: " + f.get("lastError"))
                        .toList()
                        + " (why: `deenroll report lead <id>`; fix the cause, then `deenroll run --client-id=<client id>`)");

        int running = dsl.fetchCount(deEnrollmentAbandonedRuns());
        json.put("staleRunningRuns", running);
        check(lines, problems, running == 0, "no run left 'running' by a crashed process",
                running + " run(s) left 'running' by a process that is gone (the next `deenroll run` closes them as abandoned)");
        return finish(lines, json, problems);
    }

    /** The leads that failed in several runs: how many, and the first {@value #LISTED} of them. */
    private record FailingLeads(int total, List<Map<String, Object>> leads) {
    }

    /**
     * Leads with 'error' rows in two runs or more that are still enrolled: a
     * retry will not fix them (a host trigger that rejects them, bad data).
     * Read from the lead log's partial error index, most failures first.
     */
    private FailingLeads repeatedlyFailingLeads() {
        var rows = dsl.resultQuery("SELECT g.lead_id, g.client_id, c.name AS client_name, count(DISTINCT g.run_id) AS runs,"
                + " (array_agg(g.error_message ORDER BY g.processed_at DESC))[1] AS last_error, count(*) OVER () AS total"
                + " FROM de_enrollment_lead_log g JOIN leads l ON l.id = g.lead_id AND l.completed_at IS NULL"
                + " LEFT JOIN clients c ON c.id = g.client_id WHERE g.action = 'error'"
                + " GROUP BY g.lead_id, g.client_id, c.name HAVING count(DISTINCT g.run_id) > 1"
                + " ORDER BY runs DESC, g.lead_id LIMIT " + LISTED).fetch();
        List<Map<String, Object>> leads = rows.map(r -> {
            Map<String, Object> lead = new LinkedHashMap<>();
            lead.put("leadId", r.get(0, String.class));
            lead.put("clientId", r.get(1, String.class));
            lead.put("clientName", r.get(2, String.class));
            lead.put("runs", r.get(3, Integer.class));
            lead.put("lastError", r.get(4, String.class));
            return lead;
        });
        return new FailingLeads(rows.isEmpty() ? 0 : rows.get(0).get(5, Integer.class), leads);
    }

    private static OpsReport finish(List<String> lines, Map<String, Object> json, List<String> problems) {
        json.put("problems", problems);
        json.put("ok", problems.isEmpty());
        lines.add(problems.isEmpty() ? "verify: OK" : "verify: " + problems.size() + " problem(s)");
        return new OpsReport(lines, json, !problems.isEmpty());
    }

    private static void check(List<String> lines, List<String> problems, boolean ok, String good, String bad) {
        if (ok) {
            lines.add("✅ " + good);
        } else {
            lines.add("❌ " + bad);
            problems.add(bad);
        }
    }

    private List<String> missingSchema() {
        Catalog catalog = new Catalog(dsl);
        List<String> missing = new ArrayList<>();
        TABLES.stream().filter(t -> !catalog.relationExists(t)).forEach(missing::add);
        COLUMNS.forEach((table, columns) -> {
            var present = catalog.columns(table);
            columns.stream().filter(c -> !present.contains(c)).forEach(c -> missing.add(table + "." + c));
        });
        FUNCTIONS.stream().filter(f -> !catalog.functionExists(f)).forEach(missing::add);
        INDEXES.stream().filter(i -> !catalog.indexValid(i))
                // an interrupted concurrent build leaves an index no query uses; `migrate` rebuilds it
                .forEach(i -> missing.add("index " + i + (catalog.relationExists(i) ? " (invalid)" : "")));
        return missing;
    }
}
