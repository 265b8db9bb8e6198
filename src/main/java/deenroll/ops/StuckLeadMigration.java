package deenroll.ops;

import deenroll.engine.ClientRun;
import deenroll.engine.Engine;
import deenroll.engine.Invocation;
import deenroll.engine.InvocationStatus;
import deenroll.engine.RunRequest;
import deenroll.engine.RunType;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * The one-time migration of leads already past their last message when the
 * tool is first deployed. It is a normal engine run (same definitions, same
 * batches, same lead log) with run_type `migration`, plus a report per client
 * and campaign. The migrations themselves never de-enroll anyone.
 */
public final class StuckLeadMigration {

    // grouped by ids, not names: two clients (or campaigns) may share a name
    private static final String PER_CAMPAIGN_ELIGIBLE = "SELECT cl.id AS client_id, cl.name AS client, e.campaign_id,"
            + " e.campaign_name AS campaign, e.outcome, count(*) AS leads FROM de_enrollment_eligible_leads e"
            + " JOIN clients cl ON cl.id = e.client_id AND cl.is_active"
            + " GROUP BY cl.id, cl.name, e.campaign_id, e.campaign_name, e.outcome ORDER BY 2, 1, 4, 3, 5";
    private static final String PER_CAMPAIGN_DONE = "SELECT cl.id AS client_id, cl.name AS client, g.campaign_id,"
            + " c.name AS campaign, g.outcome, count(*) AS leads"
            + " FROM de_enrollment_lead_log g JOIN de_enrollment_runs r ON r.id = g.run_id"
            + " JOIN clients cl ON cl.id = r.client_id LEFT JOIN campaigns c ON c.id = g.campaign_id"
            + " WHERE r.invocation_id = {0} AND g.action = 'de_enrolled'"
            // through the processed_at index: the lead log has no index on run_id alone (0024)
            + " AND g.processed_at >= (SELECT min(r0.run_at) FROM de_enrollment_runs r0 WHERE r0.invocation_id = {0})"
            + " GROUP BY cl.id, cl.name, g.campaign_id, c.name, g.outcome ORDER BY 2, 1, 4, 3, 5";

    private final DSLContext dsl;
    private final Engine engine;

    public StuckLeadMigration(DSLContext dsl, Engine engine) {
        this.dsl = dsl;
        this.engine = engine;
    }

    private static Map<String, Object> entry(String k1, Object v1, String k2, Object v2) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(k1, v1);
        m.put(k2, v2);
        return m;
    }

    public record Result(OpsReport report, Optional<Invocation> invocation) {
    }

    public Result run(boolean dryRun, int batchSize, Duration budget, Duration lease) {
        if (dryRun) {
            List<Map<String, Object>> rows = dsl.resultQuery(PER_CAMPAIGN_ELIGIBLE).fetchMaps();
            return new Result(report(rows, true, null), Optional.empty());
        }
        Invocation invocation = engine.run(new RunRequest(Optional.empty(), RunType.MIGRATION, batchSize, budget, lease,
                false, false));
        List<Map<String, Object>> rows = dsl.resultQuery(PER_CAMPAIGN_DONE, DSL.val(invocation.invocationId())).fetchMaps();
        return new Result(report(rows, false, invocation), Optional.of(invocation));
    }

    private static OpsReport report(List<Map<String, Object>> rows, boolean dryRun, Invocation invocation) {
        // client id -> {clientId, clientName, leads, campaigns: campaign id -> {campaignId, campaignName, leads, byOutcome}}
        Map<Object, Map<String, Object>> clients = new LinkedHashMap<>();
        long total = 0;
        for (Map<String, Object> r : rows) {
            long n = ((Number) r.get("leads")).longValue();
            total += n;
            Map<String, Object> client = clients.computeIfAbsent(r.get("client_id"), id -> entry(
                    "clientId", id.toString(), "clientName", r.get("client")));
            @SuppressWarnings("unchecked")
            Map<Object, Map<String, Object>> campaigns = (Map<Object, Map<String, Object>>) client
                    .computeIfAbsent("campaigns", k -> new LinkedHashMap<>());
            Map<String, Object> campaign = campaigns.computeIfAbsent(r.get("campaign_id"), id -> entry(
                    "campaignId", Objects.toString(id, null), "campaignName", Objects.toString(r.get("campaign"), "(deleted campaign)")));
            client.merge("leads", n, (a, b) -> (Long) a + (Long) b);
            campaign.merge("leads", n, (a, b) -> (Long) a + (Long) b);
            @SuppressWarnings("unchecked")
            Map<String, Long> outcomes = (Map<String, Long>) campaign.computeIfAbsent("byOutcome", k -> new LinkedHashMap<>());
            outcomes.merge((String) r.get("outcome"), n, Long::sum);
        }
        List<Map<String, Object>> byClient = new ArrayList<>();
        for (Map<String, Object> client : clients.values()) {
            Map<String, Object> out = new LinkedHashMap<>(client);
            out.put("campaigns", new ArrayList<>(((Map<?, ?>) client.get("campaigns")).values()));
            byClient.add(out);
        }
        List<String> lines = new ArrayList<>();
        lines.add((dryRun ? "would de-enroll " : "de-enrolled ") + total + " lead(s) already past their last message"
                + (dryRun ? " (--dry-run: nothing changed)" : " (run_type migration)"));
        for (Map<String, Object> client : byClient) {
            lines.add("  " + client.get("clientName") + " (" + client.get("clientId") + "): " + client.get("leads"));
            for (Object c : (List<?>) client.get("campaigns")) {
                Map<?, ?> campaign = (Map<?, ?>) c;
                lines.add("    " + campaign.get("campaignName") + ": " + campaign.get("leads") + " " + campaign.get("byOutcome"));
            }
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("dryRun", dryRun);
        json.put("leads", total);
        json.put("clients", byClient);
        if (invocation != null) {
            json.put("invocationId", invocation.invocationId().toString());
            json.put("status", invocation.status().sql());
            List<String> failed = invocation.clients().stream().filter(c -> c.error() != null)
                    .map(c -> c.clientName() + ": " + c.error()).toList();
            json.put("failedClients", failed);
            failed.forEach(f -> lines.add("  ❌ " + f));
            if (invocation.status() == InvocationStatus.PAUSED) {
                lines.add("  paused (deenroll status says by whom and why): run it again after `deenroll resume`");
            } else if (!invocation.notStarted().isEmpty()) {
                lines.add("  budget ran out: " + invocation.notStarted().size() + " client(s) not started; run it again");
            }
            json.put("runIds", invocation.clients().stream().map(ClientRun::runId).map(UUID::toString).toList());
        }
        return new OpsReport(lines, json, false);
    }
}
