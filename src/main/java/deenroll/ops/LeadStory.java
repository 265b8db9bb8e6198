package deenroll.ops;

import org.jooq.DSLContext;
import org.jooq.impl.DSL;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * What happened to one lead: the entries of its {@code campaign_history} and
 * its lead-log rows with the runs they belong to ({@code de_enrollment_lead_log_of}).
 * `report lead` and `explain` both show it, in the same lines and JSON.
 * Values are JSON-ready (times and ids as text).
 */
public record LeadStory(List<Map<String, Object>> history, List<Map<String, Object>> leadLog) {

    public LeadStory {
        history = List.copyOf(history);
        leadLog = List.copyOf(leadLog);
    }

    public static LeadStory of(DSLContext dsl, UUID leadId) {
        // a history that is not an array (the host app wrote something else) has no entries
        List<Map<String, Object>> history = dsl.resultQuery("SELECT e->>'campaignName' AS campaign, e->>'campaignId' AS campaign_id,"
                + " e->>'enrolledAt' AS enrolled_at, e->>'completedAt' AS completed_at, e->>'messagesReceived' AS messages_received,"
                + " e->>'outcome' AS outcome FROM leads l, jsonb_array_elements(CASE WHEN jsonb_typeof(l.campaign_history) = 'array'"
                + " THEN l.campaign_history ELSE '[]'::jsonb END) e WHERE l.id = {0}", DSL.val(leadId)).fetchMaps();
        List<Map<String, Object>> log = dsl.resultQuery("SELECT g.processed_at, g.action, g.outcome, g.messages_received,"
                + " g.error_message, g.run_id, r.run_at, r.run_type, r.status AS run_status FROM de_enrollment_lead_log_of({0}) g"
                + " LEFT JOIN de_enrollment_runs r ON r.id = g.run_id ORDER BY g.processed_at, g.id", DSL.val(leadId))
                .fetchMaps();
        return new LeadStory(history.stream().map(Reports::stringify).toList(), log.stream().map(Reports::stringify).toList());
    }

    /** "History:" and "Lead log:" with one indented line per entry or row ("none" when there is none). */
    public List<String> lines() {
        List<String> lines = new ArrayList<>();
        lines.add(history.isEmpty() ? "History: none" : "History:");
        history.forEach(h -> lines.add(String.format("  %s (%s): enrolled %s, completed %s, %s messages, %s", h.get("campaign"),
                h.get("campaign_id"), h.get("enrolled_at"), h.get("completed_at"), h.get("messages_received"), h.get("outcome"))));
        lines.add(leadLog.isEmpty() ? "Lead log: none" : "Lead log:");
        leadLog.forEach(g -> lines.add(String.format("  %s %s %s (run %s, %s %s, started %s)%s", g.get("processed_at"),
                g.get("action"), g.get("outcome") == null ? "" : g.get("outcome"), g.get("run_id"), g.get("run_type"),
                g.get("run_status"), g.get("run_at"), g.get("error_message") == null ? "" : " — " + g.get("error_message"))));
        return lines;
    }
}
