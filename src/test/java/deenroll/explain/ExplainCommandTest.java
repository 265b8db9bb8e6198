package deenroll.explain;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.Query;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `deenroll explain LEAD_ID`: one test per branch of the eligibility
 * definition (DESIGN §3) and of what the next run does, in text and JSON;
 * and the verdict checked against the engine's own eligible set.
 */
class ExplainCommandTest {

    private static final ObjectReader ONE_DOCUMENT = new ObjectMapper().readerFor(JsonNode.class)
            .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private TestDatabase db;
    private Fixtures f;
    private UUID acme;

    @BeforeEach
    void database() {
        db = TestPostgres.get().migrated();
        f = new Fixtures(db.db().dsl());
        acme = f.client("Acme");
    }

    @AfterEach
    void drop() {
        db.close();
    }

    private JsonNode json(UUID lead) {
        Cli.Result r = Cli.run(db, "explain", lead.toString(), "--output", "json");
        assertThat(r.exitCode()).as("stderr: %s", r.err()).isZero();
        try {
            return ONE_DOCUMENT.readValue(r.out());
        } catch (IOException e) {
            throw new AssertionError("stdout is not one JSON document:\n" + r.out(), e);
        }
    }

    private List<String> text(UUID lead) {
        Cli.Result r = Cli.run(db, "explain", lead.toString());
        assertThat(r.exitCode()).as("stderr: %s", r.err()).isZero();
        return r.out().lines().toList();
    }

    private static JsonNode condition(JsonNode doc, String name) {
        for (JsonNode c : doc.path("conditions")) {
            if (c.path("name").asText().equals(name)) {
                return c;
            }
        }
        throw new AssertionError("no condition " + name + " in " + doc.path("conditions"));
    }

    /** The holds of is_active, completed_at, campaign, sequence, position, in that order. */
    private static List<Boolean> holds(JsonNode doc) {
        List<Boolean> holds = new ArrayList<>();
        doc.path("conditions").forEach(c -> holds.add(c.path("holds").asBoolean()));
        return holds;
    }

    private static String line(List<String> lines, String start) {
        return lines.stream().filter(l -> l.startsWith(start)).findFirst()
                .orElseThrow(() -> new AssertionError("no line starting with '" + start + "' in\n" + String.join("\n", lines)));
    }

    private String sql(String query, Object... args) {
        return Query.value(db.db().dsl(), String.class, query, args);
    }

    @Test
    void anEligibleLeadWouldBeDeEnrolledWithItsOutcomeAndTheNextRunDoesSo() {
        UUID campaign = f.campaign(acme, 3);
        UUID lead = f.lead(acme, campaign, 3, true, false);

        JsonNode doc = json(lead);
        List<String> text = text(lead);

        assertThat(doc.path("leadId").asText()).isEqualTo(lead.toString());
        assertThat(doc.path("eligible").asBoolean()).isTrue();
        assertThat(doc.path("outcome").asText()).isEqualTo("booked");
        assertThat(doc.path("conditions").findValuesAsText("name"))
                .containsExactly("is_active", "completed_at", "campaign", "sequence", "position");
        assertThat(holds(doc)).containsOnly(true);
        assertThat(condition(doc, "is_active").path("value").asBoolean()).isTrue();
        assertThat(condition(doc, "completed_at").path("value").isNull()).isTrue();
        assertThat(condition(doc, "campaign").path("value").asText()).isEqualTo(campaign.toString());
        assertThat(condition(doc, "sequence").path("value").asInt()).isEqualTo(3);
        assertThat(condition(doc, "position").path("value").asInt()).isEqualTo(3);
        assertThat(doc.at("/campaign/sequenceLength").asInt()).isEqualTo(3);
        assertThat(doc.at("/campaign/messagesType").asText()).isEqualTo("array");
        assertThat(doc.at("/campaign/clientActive").asBoolean()).isTrue();
        assertThat(doc.at("/campaign/otherClientThanLead").asBoolean()).isFalse();
        assertThat(doc.at("/lead/clientName").asText()).isEqualTo("Acme");
        assertThat(doc.path("paused").isNull()).isTrue();
        assertThat(doc.path("liveInvocations").size()).isZero();
        assertThat(doc.path("history").size()).isZero();
        assertThat(doc.path("leadLog").size()).isZero();
        assertThat(doc.at("/nextRun/action").asText()).isEqualTo("de_enroll");
        assertThat(doc.at("/nextRun/clientId").asText()).isEqualTo(acme.toString());
        assertThat(doc.fieldNames()).toIterable().containsExactly("leadId", "eligible", "outcome", "conditions", "lead",
                "campaign", "paused", "liveInvocations", "history", "leadLog", "nextRun");

        assertThat(text.get(0)).isEqualTo("Lead " + lead + " of client Acme (" + acme + "): eligible; outcome it would get: booked");
        assertThat(line(text, "  ✅ sequence well-formed")).endsWith("an array of 3 message(s), length 3");
        assertThat(line(text, "  ✅ position >= sequence length")).endsWith("3 >= 3");
        assertThat(line(text, "  ✅ client Acme")).endsWith("is active: scheduled runs (all clients) take it");
        assertThat(text).contains("  not paused", "History: none", "Lead log: none");
        assertThat(line(text, "Next run: ")).isEqualTo("Next run: de-enrolls it (outcome booked) in the run of client Acme ("
                + acme + ")");

        // and the next run does what explain said
        assertThat(Cli.run(db, "run").exitCode()).isZero();
        assertThat(sql("SELECT outcome FROM de_enrollment_lead_log WHERE lead_id = ? AND action = 'de_enrolled'", lead))
                .isEqualTo("booked");
    }

    @Test
    void anInactiveLeadIsNotEligible() {
        UUID lead = f.lead(acme, f.campaign(acme, 2), 2);
        db.sql("UPDATE leads SET is_active = false WHERE id = '" + lead + "'");

        JsonNode doc = json(lead);
        List<String> text = text(lead);

        assertThat(doc.path("eligible").asBoolean()).isFalse();
        assertThat(holds(doc)).containsExactly(false, true, true, true, true);
        assertThat(condition(doc, "is_active").path("value").asBoolean()).isFalse();
        assertThat(doc.at("/nextRun/action").asText()).isEqualTo("not_eligible");
        assertThat(line(text, "  ❌ is_active")).isEqualTo("  ❌ is_active: false");
        assertThat(line(text, "Next run: ")).isEqualTo("Next run: leaves it as it is: not eligible (fails: is_active)");
    }

    @Test
    void aLeadWithCompletedAtSetIsNotEligibleEvenWhileActive() {
        UUID lead = f.lead(acme, f.campaign(acme, 2), 2);
        db.sql("UPDATE leads SET completed_at = '2026-02-03T04:05:06Z' WHERE id = '" + lead + "'");

        JsonNode doc = json(lead);
        List<String> text = text(lead);

        assertThat(doc.path("eligible").asBoolean()).isFalse();
        assertThat(holds(doc)).containsExactly(true, false, true, true, true);
        assertThat(condition(doc, "completed_at").path("value").asText()).isEqualTo("2026-02-03T04:05:06Z");
        assertThat(line(text, "  ❌ completed_at is null")).endsWith("completed 2026-02-03T04:05:06Z");
        assertThat(line(text, "Next run: ")).endsWith("(fails: completed_at is null)");
    }

    @Test
    void aLeadBeforeTheEndOfItsSequenceIsNotEligible() {
        UUID lead = f.lead(acme, f.campaign(acme, 4), 3);

        JsonNode doc = json(lead);
        List<String> text = text(lead);

        assertThat(doc.path("eligible").asBoolean()).isFalse();
        assertThat(holds(doc)).containsExactly(true, true, true, true, false);
        assertThat(line(text, "  ❌ position >= sequence length")).endsWith("3 >= 4");
        assertThat(line(text, "Next run: ")).endsWith("(fails: position >= sequence length)");
    }

    /** Every kind of messages de_enrollment_sequence_length treats as no sequence. */
    @ParameterizedTest(name = "messages {0}")
    @CsvSource(delimiter = '|', value = {
            "SQL NULL        | missing | messages is NULL",
            "null            | null    | messages is JSON null",
            "[]              | array   | messages is an array of 0 element(s), no sequence",
            "{\"steps\":[1]} | object  | messages is a JSON object, not an array",
            "\"three\"       | string  | messages is a JSON string, not an array",
            "3               | number  | messages is a JSON number, not an array",
            "true            | boolean | messages is a JSON boolean, not an array"})
    void aMalformedSequenceIsNeverEligible(String messages, String type, String says) {
        UUID campaign = f.campaignWithMessages(acme, messages.equals("SQL NULL") ? null : messages);
        UUID lead = f.lead(acme, campaign, 50);

        JsonNode doc = json(lead);
        List<String> text = text(lead);

        assertThat(doc.path("eligible").asBoolean()).isFalse();
        assertThat(holds(doc)).containsExactly(true, true, true, false, false);
        assertThat(condition(doc, "sequence").path("value").isNull()).isTrue();
        assertThat(doc.at("/campaign/messagesType").asText()).isEqualTo(type);
        assertThat(doc.at("/campaign/sequenceLength").isNull()).isTrue();
        assertThat(line(text, "  ❌ sequence well-formed")).isEqualTo("  ❌ sequence well-formed: " + says);
        assertThat(line(text, "  ❌ position >= sequence length")).endsWith("50 >= (no length)");
        assertThat(line(text, "Next run: ")).endsWith("(fails: sequence well-formed, position >= sequence length)");
    }

    @Test
    void aLeadWithoutACampaignIsNotEligible() {
        UUID lead = f.lead(acme, null, 5);

        JsonNode doc = json(lead);
        List<String> text = text(lead);

        assertThat(doc.path("eligible").asBoolean()).isFalse();
        assertThat(holds(doc)).containsExactly(true, true, false, false, false);
        assertThat(doc.path("campaign").isNull()).isTrue();
        assertThat(doc.at("/nextRun/clientId").isNull()).isTrue();
        assertThat(line(text, "  ❌ campaign")).isEqualTo("  ❌ campaign: none (campaign_link_id is null)");
        assertThat(text).contains("  no campaign: no run takes this lead");
    }

    @Test
    void aLeadInACampaignOfAnotherClientIsDeEnrolledByThatClientsRun() {
        UUID beta = f.client("Beta");
        UUID lead = f.lead(acme, f.campaign(beta, 1), 1);

        JsonNode doc = json(lead);
        List<String> text = text(lead);

        assertThat(doc.path("eligible").asBoolean()).isTrue();
        assertThat(doc.at("/lead/clientId").asText()).isEqualTo(acme.toString());
        assertThat(doc.at("/campaign/clientId").asText()).isEqualTo(beta.toString());
        assertThat(doc.at("/campaign/otherClientThanLead").asBoolean()).isTrue();
        assertThat(doc.at("/nextRun/action").asText()).isEqualTo("de_enroll");
        assertThat(doc.at("/nextRun/clientId").asText()).isEqualTo(beta.toString());
        assertThat(doc.at("/nextRun/clientName").asText()).isEqualTo("Beta");
        assertThat(line(text, "  ✅ campaign")).contains("of client Beta (" + beta + ")");
        assertThat(text).contains("  the campaign is client Beta (" + beta + ")'s, not the lead's: runs of Acme (" + acme
                + ") never take this lead");
        assertThat(line(text, "Next run: ")).endsWith("in the run of client Beta (" + beta + ")");

        // as explain says: the lead's own client's run leaves it, the campaign's client's run takes it
        assertThat(Cli.run(db, "run", "--client-id", acme.toString()).exitCode()).isZero();
        assertThat(sql("SELECT is_active::text FROM leads WHERE id = ?", lead)).isEqualTo("true");
        assertThat(Cli.run(db, "run", "--client-id", beta.toString()).exitCode()).isZero();
        assertThat(sql("SELECT is_active::text FROM leads WHERE id = ?", lead)).isEqualTo("false");
    }

    @Test
    void anEligibleLeadOfAnInactiveClientIsSkippedByScheduledRuns() {
        UUID dormant = f.client("Dormant", false);
        UUID lead = f.lead(dormant, f.campaign(dormant, 2), 2, false, true);

        JsonNode doc = json(lead);
        List<String> text = text(lead);

        assertThat(doc.path("eligible").asBoolean()).isTrue();
        assertThat(doc.path("outcome").asText()).isEqualTo("opted_out");
        assertThat(doc.at("/campaign/clientActive").asBoolean()).isFalse();
        assertThat(doc.at("/nextRun/action").asText()).isEqualTo("client_inactive");
        assertThat(line(text, "  ❌ client Dormant")).endsWith("is inactive: scheduled runs (all clients) skip it");
        assertThat(line(text, "Next run: ")).isEqualTo("Next run: nothing: client Dormant (" + dormant + ") is inactive;"
                + " `deenroll run --client-id " + dormant + "` de-enrolls it (outcome opted_out)");

        assertThat(Cli.run(db, "run").exitCode()).isZero();
        assertThat(sql("SELECT is_active::text FROM leads WHERE id = ?", lead)).as("a scheduled run skips it").isEqualTo("true");
    }

    @Test
    void anAlreadyDeEnrolledLeadShowsItsHistoryAndLeadLogRows() {
        UUID lead = f.lead(acme, f.campaign(acme, 2), 2);
        assertThat(Cli.run(db, "run").exitCode()).isZero();
        String run = sql("SELECT run_id::text FROM de_enrollment_lead_log WHERE lead_id = ?", lead);

        JsonNode doc = json(lead);
        List<String> text = text(lead);

        assertThat(doc.path("eligible").asBoolean()).isFalse();
        assertThat(holds(doc)).containsExactly(false, false, true, true, true);
        assertThat(doc.path("history").size()).isEqualTo(1);
        assertThat(doc.at("/history/0/outcome").asText()).isEqualTo("completed");
        assertThat(doc.at("/history/0/messages_received").asText()).isEqualTo("2");
        assertThat(doc.path("leadLog").size()).isEqualTo(1);
        assertThat(doc.at("/leadLog/0/action").asText()).isEqualTo("de_enrolled");
        assertThat(doc.at("/leadLog/0/run_id").asText()).isEqualTo(run);
        assertThat(doc.at("/leadLog/0/run_status").asText()).isEqualTo("success");
        assertThat(doc.at("/nextRun/action").asText()).isEqualTo("not_eligible");
        assertThat(text).contains("History:", "Lead log:");
        assertThat(text.get(text.indexOf("Lead log:") + 1)).contains(" de_enrolled completed (run " + run + ", scheduled success");
        assertThat(line(text, "Next run: ")).endsWith("(fails: is_active, completed_at is null)");
    }

    @Test
    void whilePausedTheNextRunDoesNothing() {
        UUID lead = f.lead(acme, f.campaign(acme, 1), 1);
        assertThat(Cli.run(db, "pause", "--reason", "index rebuild").exitCode()).isZero();

        JsonNode doc = json(lead);
        List<String> text = text(lead);

        assertThat(doc.path("eligible").asBoolean()).isTrue();
        assertThat(doc.at("/paused/reason").asText()).isEqualTo("index rebuild");
        assertThat(doc.at("/nextRun/action").asText()).isEqualTo("paused");
        assertThat(line(text, "  ⏸ paused since ")).endsWith(": index rebuild");
        assertThat(line(text, "Next run: ")).startsWith("Next run: nothing while paused; after `deenroll resume`");

        assertThat(Cli.run(db, "run").exitCode()).isZero();
        assertThat(sql("SELECT is_active::text FROM leads WHERE id = ?", lead)).isEqualTo("true");
    }

    @Test
    void aLiveInvocationOnTheClientIsNamedAndADeadOneIsNot() {
        UUID lead = f.lead(acme, f.campaign(acme, 1), 1);
        UUID live = invocation("worker-7", "1 second");
        invocation("worker-1", "10 minutes");   // older than its 90 s lease: the next run closes it

        JsonNode doc = json(lead);
        List<String> text = text(lead);

        assertThat(doc.path("liveInvocations").findValuesAsText("invocationId")).containsExactly(live.toString());
        assertThat(doc.at("/liveInvocations/0/clientInFlight").asBoolean()).isTrue();
        assertThat(doc.at("/liveInvocations/0/host").asText()).isEqualTo("worker-7");
        assertThat(line(text, "  invocation " + live)).contains("on worker-7 pid 4242 is on client Acme now");
        assertThat(sql("SELECT count(*)::text FROM de_enrollment_invocations WHERE status = 'running'"))
                .as("explain writes nothing (the dead one is left for the next run)").isEqualTo("2");
    }

    /** A running invocation of Acme alone, at Acme, whose last beat was {@code heartbeatAge} ago. */
    private UUID invocation(String host, String heartbeatAge) {
        UUID id = UUID.randomUUID();
        db.sql("INSERT INTO de_enrollment_invocations (id, host, pid, run_type, batch_size, budget_ms, lease_ms,"
                + " client_ids, run_ids, position, started_at)"
                + " VALUES ('" + id + "', '" + host + "', 4242, 'scheduled', 100, 240000, 90000,"
                + " ARRAY['" + acme + "']::uuid[], ARRAY['" + UUID.randomUUID() + "']::uuid[], 1, now() - interval '1 minute');"
                + "INSERT INTO de_enrollment_heartbeats (invocation_id, heartbeat_at)"
                + " VALUES ('" + id + "', clock_timestamp() - interval '" + heartbeatAge + "')");
        return id;
    }

    @Test
    void aLeadThatDoesNotExistIsOneLineAndExit1AndNotAUuidIsExit2() {
        UUID missing = UUID.randomUUID();

        Cli.Result notFound = Cli.run(db, "explain", missing.toString(), "--output", "json");
        Cli.Result notUuid = Cli.run(db, "explain", "12345");

        assertThat(notFound.exitCode()).isEqualTo(1);
        assertThat(notFound.out()).isEmpty();
        assertThat(notFound.err().lines().toList()).containsExactly("deenroll: explain: no lead " + missing + " in this database");
        assertThat(notUuid.exitCode()).isEqualTo(2);
        assertThat(notUuid.err()).contains("LEAD_ID: expected a UUID");
    }

    /**
     * The parts come from the SQL routines, not a copy in Java: a database
     * whose definition says "past the last message" instead of "at or past"
     * gets another verdict for a lead at its last message, from the same build.
     */
    @Test
    void theVerdictFollowsTheDefinitionInTheDatabase() {
        UUID lead = f.lead(acme, f.campaign(acme, 2), 2);
        assertThat(json(lead).path("eligible").asBoolean()).isTrue();

        db.sql("CREATE OR REPLACE FUNCTION de_enrollment_is_eligible(p_is_active boolean, p_completed_at timestamptz,"
                + " p_position integer, p_sequence_length integer) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE"
                + " AS $$ SELECT p_is_active AND p_completed_at IS NULL AND p_position > p_sequence_length $$");

        JsonNode doc = json(lead);
        assertThat(doc.path("eligible").asBoolean()).isFalse();
        assertThat(holds(doc)).containsExactly(true, true, true, true, false);
    }

    /**
     * For generated leads over every branch (lead state, position around the
     * sequence's end, malformed sequences, campaigns of another client), the
     * verdict is membership in the engine's eligible set: what
     * get_leads_for_de_enrollment returns for the campaign's client, and the
     * de_enrollment_eligible_leads view. And "eligible" is every part holding.
     */
    @Test
    void theVerdictIsMembershipInTheEnginesEligibleSet() {
        Random random = new Random(20261201);
        UUID beta = f.client("Beta");
        List<UUID> clients = List.of(acme, beta);
        String[] malformed = {null, "[]", "null", "{\"a\":1}", "\"x\"", "7", "false"};
        List<UUID> campaigns = new ArrayList<>();
        for (UUID client : clients) {
            for (int steps = 1; steps <= 3; steps++) {
                campaigns.add(f.campaign(client, steps));
            }
            campaigns.add(f.campaignWithMessages(client, malformed[random.nextInt(malformed.length)]));
        }
        List<UUID> leads = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            UUID campaign = campaigns.get(random.nextInt(campaigns.size()));
            UUID lead = f.lead(clients.get(random.nextInt(2)), campaign, random.nextInt(5), random.nextBoolean(),
                    random.nextBoolean());
            switch (random.nextInt(4)) {
                case 0 -> db.sql("UPDATE leads SET is_active = false WHERE id = '" + lead + "'");
                case 1 -> db.sql("UPDATE leads SET completed_at = now() WHERE id = '" + lead + "'");
                default -> { }
            }
            leads.add(lead);
        }
        Set<UUID> engine = new HashSet<>();
        for (UUID client : clients) {
            // one autocommitted statement each: its row locks end with it
            engine.addAll(db.db().dsl().fetchValues("SELECT lead_id FROM get_leads_for_de_enrollment(?::uuid, 10000)",
                    client).stream().map(v -> (UUID) v).toList());
        }
        Set<UUID> view = new HashSet<>(db.db().dsl().fetchValues("SELECT lead_id FROM de_enrollment_eligible_leads")
                .stream().map(v -> (UUID) v).toList());
        assertThat(view).isEqualTo(engine);
        assertThat(engine).as("the sample has both verdicts").isNotEmpty().hasSizeLessThan(leads.size());

        for (UUID lead : leads) {
            JsonNode doc = json(lead);
            boolean eligible = doc.path("eligible").asBoolean();
            assertThat(eligible).as("lead %s: %s", lead, doc.path("conditions")).isEqualTo(engine.contains(lead));
            assertThat(eligible).as("eligible is every part holding: %s", doc.path("conditions"))
                    .isEqualTo(!holds(doc).contains(false));
            assertThat(doc.at("/nextRun/action").asText()).isEqualTo(eligible ? "de_enroll" : "not_eligible");
        }
    }
}
