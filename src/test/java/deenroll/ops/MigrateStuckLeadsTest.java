package deenroll.ops;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `migrate-stuck-leads`: the one-time step after the first deploy for leads that
 * finished their sequence before the tool existed. The dry run must tell per
 * client and campaign what would happen and change nothing; the real run
 * de-enrolls them through the engine (run_type migration) and its report must
 * agree with the database. A malformed campaign and an inactive client are in
 * the data because the old procedure's queries broke on the first and the
 * scheduled job skips the second.
 */
class MigrateStuckLeadsTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** The platform, and the report expected of it: client name → campaign name → outcome → leads. */
    private record Platform(UUID acme, UUID birch, UUID cedar, UUID malformedLead, List<UUID> finished,
                            Map<String, Map<String, Map<String, Integer>>> expected, int total) {
    }

    private static Platform platform(TestDatabase db) {
        Fixtures f = new Fixtures(db.db().dsl());
        UUID acme = f.client("Acme Dental");
        UUID birch = f.client("Birch Legal");
        UUID cedar = f.client("Cedar Fitness (inactive)", false);
        UUID a1 = f.campaign(acme, 3);
        UUID a2 = f.campaign(acme, 2);
        UUID b1 = f.campaign(birch, 1);
        UUID malformed = f.campaignWithMessages(birch, "{\"step\": 1, \"text\": \"not an array\"}");
        UUID c1 = f.campaign(cedar, 1);
        List<UUID> finished = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            finished.add(f.lead(acme, a1, 3));
        }
        finished.add(f.lead(acme, a1, 3, true, false));
        finished.add(f.lead(acme, a1, 5, true, false));
        finished.add(f.lead(acme, a1, 3, false, true));
        f.lead(acme, a1, 2);
        f.lead(acme, a1, 0, false, true);
        finished.add(f.lead(acme, a2, 2));
        finished.add(f.lead(acme, a2, 2));
        finished.add(f.lead(birch, b1, 1));
        finished.add(f.lead(birch, b1, 1, true, true));
        UUID malformedLead = f.lead(birch, malformed, 5);
        f.leads(cedar, c1, 1, 2);
        f.recount();
        Map<String, Map<String, Map<String, Integer>>> expected = Map.of(
                "Acme Dental", Map.of(
                        name(db, a1), Map.of("completed", 3, "booked", 2, "opted_out", 1),
                        name(db, a2), Map.of("completed", 2)),
                "Birch Legal", Map.of(
                        name(db, b1), Map.of("completed", 1, "booked", 1)));
        return new Platform(acme, birch, cedar, malformedLead, finished, expected, 10);
    }

    private static String name(TestDatabase db, UUID campaign) {
        return Sql.text(db, "SELECT name FROM campaigns WHERE id = ?::uuid", campaign.toString());
    }

    /** The report's clients as client name -> campaign name -> outcome counts (names are unique in these tests). */
    private static Map<String, Map<String, Map<String, Integer>>> byClient(JsonNode json) {
        Map<String, Map<String, Map<String, Integer>>> out = new java.util.LinkedHashMap<>();
        for (JsonNode client : json.get("clients")) {
            Map<String, Map<String, Integer>> campaigns = new java.util.LinkedHashMap<>();
            for (JsonNode campaign : client.get("campaigns")) {
                campaigns.put(campaign.get("campaignName").asText(),
                        MAPPER.convertValue(campaign.get("byOutcome"), new TypeReference<Map<String, Integer>>() { }));
            }
            out.put(client.get("clientName").asText(), campaigns);
        }
        return out;
    }

    @Test
    void dryRunReportsPerClientAndCampaignAndChangesNothing() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Platform p = platform(db);
            List<String> leads = Snapshots.leadState(db);
            List<String> campaigns = Snapshots.campaignState(db);

            Cli.Result dry = Cli.run(db, "migrate-stuck-leads", "--dry-run", "--output", "json");

            assertThat(dry.exitCode()).as(dry.err()).isZero();
            JsonNode json = Json.of(dry);
            assertThat(json.get("dryRun").asBoolean()).isTrue();
            assertThat(json.get("leads").asInt()).isEqualTo(p.total());
            assertThat(byClient(json)).isEqualTo(p.expected());
            assertThat(Snapshots.leadState(db)).containsExactlyElementsOf(leads);
            assertThat(Snapshots.campaignState(db)).containsExactlyElementsOf(campaigns);
            assertThat(Sql.number(db, "SELECT count(*) FROM de_enrollment_runs")).isZero();
            assertThat(Sql.number(db, "SELECT count(*) FROM de_enrollment_lead_log")).isZero();
        }
    }

    @Test
    void dryRunTextNamesEachClientAndCampaign() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Platform p = platform(db);

            Cli.Result dry = Cli.run(db, "migrate-stuck-leads", "--dry-run");

            assertThat(dry.exitCode()).as(dry.err()).isZero();
            assertThat(dry.out()).contains("would de-enroll " + p.total()).contains("Acme Dental").contains("Birch Legal")
                    .doesNotContain("Cedar Fitness");
            p.expected().values().forEach(campaigns -> campaigns.keySet().forEach(c -> assertThat(dry.out()).contains(c)));
        }
    }

    @Test
    void realRunDeEnrollsThemAsMigrationRunsAndItsReportMatchesTheDatabase() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Platform p = platform(db);
            Fixtures f = new Fixtures(db.db().dsl());

            Cli.Result migrate = Cli.run(db, "migrate-stuck-leads", "--output", "json");

            assertThat(migrate.exitCode()).as(migrate.out() + migrate.err()).isZero();
            JsonNode json = Json.of(migrate);
            String invocation = json.get("invocationId").asText();
            assertThat(json.get("leads").asInt()).isEqualTo(p.total());
            assertThat(byClient(json)).isEqualTo(p.expected());

            // one migration run per active client, all in this invocation, all successful
            assertThat(Sql.strings(db, "SELECT client_id::text || ' ' || run_type || ' ' || status"
                    + " FROM de_enrollment_runs WHERE invocation_id = ?::uuid ORDER BY 1", invocation))
                    .containsExactlyInAnyOrder(p.acme() + " migration success", p.birch() + " migration success");
            assertThat(Sql.number(db, "SELECT count(*) FROM de_enrollment_runs")).isEqualTo(2);
            assertThat(json.get("runIds")).extracting(JsonNode::asText).containsExactlyInAnyOrderElementsOf(
                    Sql.strings(db, "SELECT id::text FROM de_enrollment_runs"));

            // every finished lead de-enrolled once, with its log row; nothing else touched
            assertThat(Sql.strings(db, "SELECT id::text FROM leads WHERE completed_at IS NOT NULL"))
                    .containsExactlyInAnyOrderElementsOf(p.finished().stream().map(UUID::toString).toList());
            assertThat(Sql.strings(db, "SELECT lead_id::text FROM de_enrollment_lead_log WHERE action = 'de_enrolled'"))
                    .containsExactlyInAnyOrderElementsOf(p.finished().stream().map(UUID::toString).toList());
            assertThat(f.drift()).isZero();
            assertThat(f.eligible()).as("only the inactive client's leads wait").isEqualTo(2);
            assertThat(Sql.text(db, "SELECT is_active::text || ' ' || (completed_at IS NULL)::text FROM leads"
                    + " WHERE id = ?::uuid", p.malformedLead().toString())).isEqualTo("true true");

            // the per-client totals of the report are what the database holds
            Map<String, UUID> clients = Map.of("Acme Dental", p.acme(), "Birch Legal", p.birch());
            byClient(json).forEach((client, campaigns) -> {
                int reported = campaigns.values().stream()
                        .flatMap(o -> o.values().stream()).mapToInt(Integer::intValue).sum();
                String id = clients.get(client).toString();
                assertThat(Sql.number(db, "SELECT count(*) FROM leads WHERE client_id = ?::uuid AND completed_at IS NOT NULL", id))
                        .as(client).isEqualTo(reported);
                assertThat(Sql.number(db, "SELECT count(*) FROM de_enrollment_lead_log g JOIN de_enrollment_runs r"
                        + " ON r.id = g.run_id WHERE r.client_id = ?::uuid AND g.action = 'de_enrolled'", id))
                        .as(client).isEqualTo(reported);
            });
        }
    }

    /**
     * Client names are not unique in the host schema (two branches of one
     * franchise, say); the report is per client, so two clients must not be
     * added up into one line because their names match.
     */
    @Test
    void clientsWithTheSameNameAreReportedSeparately() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Fixtures f = new Fixtures(db.db().dsl());
            UUID north = f.client("Acme Dental");
            UUID south = f.client("Acme Dental");
            f.leads(north, f.campaign(north, 1), 1, 3);
            f.leads(south, f.campaign(south, 1), 1, 2);
            f.recount();

            Cli.Result migrate = Cli.run(db, "migrate-stuck-leads", "--output", "json");

            assertThat(migrate.exitCode()).as(migrate.err()).isZero();
            List<Integer> reportedPerClient = new java.util.ArrayList<>();
            Json.of(migrate).get("clients").forEach(client -> reportedPerClient.add(client.get("leads").asInt()));
            assertThat(reportedPerClient).as("leads per client in the report (north has 3, south 2)")
                    .containsExactlyInAnyOrder(3, 2);
        }
    }

    @Test
    void aSecondRealRunFindsNothingLeft() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            platform(db);
            assertThat(Cli.run(db, "migrate-stuck-leads").exitCode()).isZero();
            List<String> leads = Snapshots.leadState(db);

            Cli.Result again = Cli.run(db, "migrate-stuck-leads", "--output", "json");

            assertThat(again.exitCode()).as(again.err()).isZero();
            assertThat(Json.of(again).get("leads").asInt()).isZero();
            assertThat(Snapshots.leadState(db)).containsExactlyElementsOf(leads);
            assertThat(Sql.number(db, "SELECT count(*) FROM de_enrollment_lead_log WHERE action = 'de_enrolled'")).isEqualTo(10);
        }
    }
}
