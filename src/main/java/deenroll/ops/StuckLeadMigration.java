package deenroll.ops;

import deenroll.engine.ClientRun;
import deenroll.engine.Engine;
import deenroll.engine.Invocation;
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

    private static final String PER_CAMPAIGN_ELIGIBLE = "SELECT cl.name AS client, e.campaign_name AS campaign,"
            + " e.outcome, count(*) AS leads FROM de_enrollment_eligible_leads e"
            + " JOIN clients cl ON cl.id = e.client_id AND cl.is_active"
            + " GROUP BY cl.name, e.campaign_name, e.outcome ORDER BY 1, 2, 3";
    private static final String PER_CAMPAIGN_DONE = "SELECT cl.name AS client, c.name AS campaign, g.outcome, count(*) AS leads"
            + " FROM de_enrollment_lead_log g JOIN de_enrollment_runs r ON r.id = g.run_id"
            + " JOIN clients cl ON cl.id = r.client_id LEFT JOIN campaigns c ON c.id = g.campaign_id"
            + " WHERE r.invocation_id = {0} AND g.action = 'de_enrolled'"
            + " GROUP BY cl.name, c.name, g.outcome ORDER BY 1, 2, 3";

    private final DSLContext dsl;
    private final Engine engine;

    public StuckLeadMigration(DSLContext dsl, Engine engine) {
        this.dsl = dsl;
        this.engine = engine;
    }

    public record Result(OpsReport report, Optional<Invocation> invocation) {
    }

    public Result run(boolean dryRun, int batchSize, Duration budget) {
        if (dryRun) {
            List<Map<String, Object>> rows = dsl.resultQuery(PER_CAMPAIGN_ELIGIBLE).fetchMaps();
            return new Result(report(rows, true, null), Optional.empty());
        }
        Invocation invocation = engine.run(new RunRequest(Optional.empty(), RunType.MIGRATION, batchSize, budget, false),
                engine.activeClients());
        List<Map<String, Object>> rows = dsl.resultQuery(PER_CAMPAIGN_DONE, DSL.val(invocation.invocationId())).fetchMaps();
        return new Result(report(rows, false, invocation), Optional.of(invocation));
    }

    private static OpsReport report(List<Map<String, Object>> rows, boolean dryRun, Invocation invocation) {
        Map<String, Map<String, Map<String, Long>>> byClient = new LinkedHashMap<>();
        long total = 0;
        for (Map<String, Object> r : rows) {
            long n = ((Number) r.get("leads")).longValue();
            total += n;
            byClient.computeIfAbsent((String) r.get("client"), k -> new LinkedHashMap<>())
                    .computeIfAbsent(Objects.toString(r.get("campaign"), "(deleted campaign)"), k -> new LinkedHashMap<>())
                    .merge((String) r.get("outcome"), n, Long::sum);
        }
        List<String> lines = new ArrayList<>();
        lines.add((dryRun ? "would de-enroll " : "de-enrolled ") + total + " lead(s) already past their last message"
                + (dryRun ? " (--dry-run: nothing changed)" : " (run_type migration)"));
        byClient.forEach((client, campaigns) -> {
            lines.add("  " + client);
            campaigns.forEach((campaign, outcomes) -> lines.add("    " + campaign + ": "
                    + outcomes.values().stream().mapToLong(Long::longValue).sum() + " " + outcomes));
        });
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("dryRun", dryRun);
        json.put("leads", total);
        json.put("byClient", byClient);
        if (invocation != null) {
            json.put("invocationId", invocation.invocationId().toString());
            json.put("status", invocation.status().sql());
            List<String> failed = invocation.clients().stream().filter(c -> c.error() != null)
                    .map(c -> c.clientName() + ": " + c.error()).toList();
            json.put("failedClients", failed);
            failed.forEach(f -> lines.add("  ❌ " + f));
            if (!invocation.notReached().isEmpty()) {
                lines.add("  budget ran out: " + invocation.notReached().size() + " client(s) not started; run it again");
            }
            json.put("runIds", invocation.clients().stream().map(ClientRun::runId).map(UUID::toString).toList());
        }
        return new OpsReport(lines, json, false);
    }
}
