package deenroll.cli;

import deenroll.control.Pause;
import deenroll.control.Timestamps;
import deenroll.explain.Claim;
import deenroll.explain.Explanation;
import deenroll.explain.LeadConditions;
import deenroll.explain.LeadConditions.Campaign;
import deenroll.explain.LeadConditions.ClientOf;
import deenroll.ops.OpsReport;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** `explain` as lines for the on-call and as one JSON document (shape in docs/operations.md). */
final class ExplainFormat {

    /** One part of the definition: its name (stable, the JSON's), what it reads, whether it holds. */
    private record Condition(String name, String label, Object value, String text, boolean holds) {
    }

    private ExplainFormat() {
    }

    static OpsReport report(Explanation e) {
        LeadConditions lead = e.lead();
        List<Condition> conditions = conditions(lead);
        List<String> lines = new ArrayList<>();
        lines.add("Lead " + lead.leadId() + " of client " + name(lead.leadClient()) + ": "
                + (lead.eligible() ? "eligible" : "not eligible") + "; outcome it would get: " + lead.outcome());
        lines.add("Conditions (de_enrollment_is_eligible, part by part):");
        conditions.forEach(c -> lines.add("  " + mark(c.holds()) + " " + c.label() + ": " + c.text()));
        lines.add("  = eligible: " + (lead.eligible() ? "yes" : "no"));
        lines.add("Runs:");
        lead.runClient().ifPresentOrElse(client -> {
            lines.add("  " + mark(client.isActive()) + " client " + name(client)
                    + (client.isActive() ? " is active: scheduled runs (all clients) take it"
                    : " is inactive: scheduled runs (all clients) skip it"));
            if (lead.campaignOfAnotherClient()) {
                lines.add("  the campaign is client " + name(client) + "'s, not the lead's: runs of "
                        + name(lead.leadClient()) + " never take this lead");
            }
        }, () -> lines.add("  no campaign: no run takes this lead"));
        lines.add("  " + e.pause().map(p -> "⏸ paused " + p.since()).orElse("not paused"));
        lead.runClient().ifPresent(client -> {
            if (e.claims().isEmpty()) {
                lines.add("  no live invocation has client " + client.name() + " to do");
            }
            e.claims().forEach(c -> lines.add("  invocation " + c.invocationId() + " on " + c.host() + " pid " + c.pid()
                    + (c.inFlight() ? " is on client " + client.name() + " now: it takes an eligible lead in this run"
                    + " unless its walk is already past it" : " has client " + client.name() + " still to do")
                    + (c.ignoresPause() ? " (it ignores the pause)" : "")));
        });
        lines.addAll(e.story().lines());
        lines.add("Next run: " + nextRun(e, conditions));

        Map<String, Object> json = new LinkedHashMap<>();
        json.put("leadId", lead.leadId().toString());
        json.put("eligible", lead.eligible());
        json.put("outcome", lead.outcome());
        json.put("conditions", conditions.stream().map(ExplainFormat::json).toList());
        json.put("lead", leadJson(lead));
        json.put("campaign", lead.campaign().map(c -> campaignJson(c, lead)).orElse(null));
        json.put("paused", e.pause().map(Pause::json).orElse(null));
        json.put("liveInvocations", e.claims().stream().map(ExplainFormat::json).toList());
        json.put("history", e.story().history());
        json.put("leadLog", e.story().leadLog());
        json.put("nextRun", nextRunJson(e));
        return new OpsReport(lines, json, false);
    }

    private static List<Condition> conditions(LeadConditions lead) {
        String completedAt = lead.completedAt().map(Timestamps::json).orElse(null);
        return List.of(
                new Condition("is_active", "is_active", lead.isActive(), String.valueOf(lead.isActive()), lead.isActiveHolds()),
                new Condition("completed_at", "completed_at is null", completedAt,
                        lead.completedAt().map(t -> "completed " + Timestamps.text(t)).orElse("null"), lead.completedAtHolds()),
                new Condition("campaign", "campaign", lead.campaign().map(c -> c.id().toString()).orElse(null),
                        lead.campaign().map(c -> c.name() + " (" + c.id() + ") of client " + name(c.client())
                                + (c.isActive() ? "" : ", deactivated (that does not stop its in-flight leads)"))
                                .orElse("none (campaign_link_id is null)"), lead.campaign().isPresent()),
                new Condition("sequence", "sequence well-formed",
                        lead.campaign().flatMap(Campaign::sequenceLength).orElse(null),
                        lead.campaign().map(ExplainFormat::sequence).orElse("no campaign"),
                        lead.campaign().map(Campaign::wellFormed).orElse(false)),
                new Condition("position", "position >= sequence length", lead.position(),
                        lead.position() + " >= " + lead.campaign().flatMap(Campaign::sequenceLength).map(String::valueOf)
                                .orElse("(no length)"), lead.positionHolds()));
    }

    /** What messages holds, so the on-call sees why a sequence is malformed. */
    private static String sequence(Campaign c) {
        return switch (c.messagesType()) {
            case "missing" -> "messages is NULL";
            case "null" -> "messages is JSON null";
            case "array" -> c.sequenceLength().map(n -> "an array of " + c.messageCount().orElse(0) + " message(s), length " + n)
                    .orElse("messages is an array of " + c.messageCount().orElse(0) + " element(s), no sequence");
            default -> "messages is a JSON " + c.messagesType() + ", not an array";
        };
    }

    private static String nextRun(Explanation e, List<Condition> conditions) {
        LeadConditions lead = e.lead();
        String outcome = " (outcome " + lead.outcome() + ")";
        return switch (e.nextRun()) {
            case DE_ENROLL -> "de-enrolls it" + outcome + " in the run of client " + name(lead.runClient().orElseThrow());
            case NOT_ELIGIBLE -> "leaves it as it is: not eligible (fails: " + failing(conditions) + ")";
            case PAUSED -> "nothing while paused; after `deenroll resume` (or a run with --ignore-pause) its client's run"
                    + " de-enrolls it" + outcome;
            case CLIENT_INACTIVE -> "nothing: client " + name(lead.runClient().orElseThrow())
                    + " is inactive; `deenroll run --client-id " + lead.runClient().orElseThrow().id() + "` de-enrolls it"
                    + outcome;
        };
    }

    /** The parts that fail; none when only the definition as a whole does (it is no longer a plain AND of them). */
    private static String failing(List<Condition> conditions) {
        List<String> failing = conditions.stream().filter(c -> !c.holds()).map(Condition::label).toList();
        return failing.isEmpty() ? "de_enrollment_is_eligible as a whole" : String.join(", ", failing);
    }

    private static Map<String, Object> nextRunJson(Explanation e) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("action", e.nextRun().json());
        json.put("clientId", e.lead().runClient().map(c -> c.id().toString()).orElse(null));
        json.put("clientName", e.lead().runClient().map(ClientOf::name).orElse(null));
        return json;
    }

    private static Map<String, Object> json(Condition c) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("name", c.name());
        json.put("value", c.value());
        json.put("holds", c.holds());
        return json;
    }

    private static Map<String, Object> leadJson(LeadConditions lead) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("leadId", lead.leadId().toString());
        json.put("clientId", lead.leadClient().id().toString());
        json.put("clientName", lead.leadClient().name());
        json.put("campaignId", lead.campaign().map(c -> c.id().toString()).orElse(null));
        json.put("position", lead.position());
        json.put("isActive", lead.isActive());
        json.put("completedAt", lead.completedAt().map(Timestamps::json).orElse(null));
        json.put("booked", lead.booked());
        json.put("optedOut", lead.optedOut());
        return json;
    }

    private static Map<String, Object> campaignJson(Campaign c, LeadConditions lead) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("campaignId", c.id().toString());
        json.put("campaignName", c.name());
        json.put("clientId", c.client().id().toString());
        json.put("clientName", c.client().name());
        json.put("clientActive", c.client().isActive());
        json.put("otherClientThanLead", lead.campaignOfAnotherClient());
        json.put("isActive", c.isActive());
        json.put("messagesType", c.messagesType());
        json.put("messageCount", c.messageCount().orElse(null));
        json.put("sequenceLength", c.sequenceLength().orElse(null));
        return json;
    }

    private static Map<String, Object> json(Claim c) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("invocationId", c.invocationId().toString());
        json.put("host", c.host());
        json.put("pid", c.pid());
        json.put("clientInFlight", c.inFlight());
        json.put("ignoresPause", c.ignoresPause());
        return json;
    }

    private static String name(ClientOf client) {
        return client.name() + " (" + client.id() + ")";
    }

    private static String mark(boolean holds) {
        return holds ? "✅" : "❌";
    }
}
