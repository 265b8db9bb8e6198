package deenroll.ops;

import com.fasterxml.jackson.databind.JsonNode;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `verify`: clean on a healthy database, and each kind of problem it exists to
 * find is found, named, and makes it exit 1. Every test starts from the same
 * healthy state (a real run over the scenario) and injects one fault.
 */
@Tag("compat")
class VerifyTest {

    /** A healthy database: everything eligible de-enrolled by a real run, counters exact. */
    private static Scenario healthy(TestDatabase db) {
        Scenario s = Scenario.build(new Fixtures(db.db().dsl()));
        Cli.Result run = Cli.run(db, "run");
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        return s;
    }

    private static List<String> problems(JsonNode json) {
        List<String> out = new ArrayList<>();
        json.get("problems").forEach(p -> out.add(p.asText()));
        return out;
    }

    @Test
    void cleanAfterARunOnAFreshlyMigratedDatabase() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            healthy(db);

            Cli.Result verify = Cli.run(db, "verify", "--output", "json");

            assertThat(verify.exitCode()).as(verify.out()).isZero();
            JsonNode json = Json.of(verify);
            assertThat(json.get("ok").asBoolean()).isTrue();
            assertThat(problems(json)).isEmpty();
        }
    }

    @Test
    void namesLeadsThatFailedInSeveralRuns() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Scenario s = healthy(db);
            Fixtures f = new Fixtures(db.db().dsl());
            UUID once = f.lead(s.clientA(), s.campaignA1(), 3);
            UUID twice = f.lead(s.clientA(), s.campaignA1(), 3);
            f.recount();
            db.sql("CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$"
                    + " BEGIN RAISE EXCEPTION 'test: the CRM holds this lead'; END $$;"
                    + " CREATE TRIGGER test_refuse BEFORE UPDATE ON leads FOR EACH ROW"
                    + " WHEN (OLD.id IN ('" + once + "', '" + twice + "')) EXECUTE FUNCTION test_refuse();");
            Cli.run(db, "run");
            db.sql("CREATE OR REPLACE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$"
                    + " BEGIN IF OLD.id = '" + twice + "' THEN RAISE EXCEPTION 'test: still held'; END IF; RETURN NEW; END $$");
            Cli.run(db, "run");

            Cli.Result verify = Cli.run(db, "verify", "--output", "json");
            Cli.Result text = Cli.run(db, "verify");

            assertThat(verify.exitCode()).as(verify.out()).isEqualTo(1);
            JsonNode failing = Json.of(verify).get("repeatedlyFailingLeads");
            assertThat(failing.get("count").asInt()).as("the lead de-enrolled by the second run is not one").isOne();
            JsonNode lead = failing.get("leads").get(0);
            assertThat(lead.get("leadId").asText()).isEqualTo(twice.toString());
            assertThat(lead.get("clientId").asText()).isEqualTo(s.clientA().toString());
            assertThat(lead.get("runs").asInt()).isEqualTo(2);
            assertThat(lead.get("lastError").asText()).contains("test: still held");
            assertThat(text.out()).contains("❌ 1 lead(s) failed in more than one run and are still enrolled: [" + twice
                    + " of client ").contains("(" + s.clientA() + "), 2 runs, last error: ");
        }
    }

    @Test
    void findsCounterDrift() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Scenario s = healthy(db);
            db.sql("UPDATE campaigns SET completed_leads_count = completed_leads_count + 1 WHERE id = '" + s.campaignA1() + "'");

            Cli.Result verify = Cli.run(db, "verify", "--output", "json");

            assertThat(verify.exitCode()).isEqualTo(1);
            JsonNode json = Json.of(verify);
            assertThat(json.get("counterDrift")).hasSize(1);
            assertThat(json.at("/counterDrift/0/campaignId").asText()).isEqualTo(s.campaignA1().toString());
            assertThat(problems(json)).singleElement().asString().contains("counter drift");
        }
    }

    @Test
    void findsALeadDeEnrolledTwiceInTheLeadLog() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Scenario s = healthy(db);
            UUID lead = s.finished().get(0);
            db.sql("INSERT INTO de_enrollment_lead_log (run_id, lead_id, client_id, campaign_id, action, outcome,"
                    + " messages_received, processed_at) SELECT run_id, lead_id, client_id, campaign_id, action, outcome,"
                    + " messages_received, processed_at FROM de_enrollment_lead_log WHERE lead_id = '" + lead + "'");

            Cli.Result verify = Cli.run(db, "verify", "--output", "json");

            assertThat(verify.exitCode()).isEqualTo(1);
            JsonNode json = Json.of(verify);
            assertThat(json.get("duplicateLeadLog").asInt()).isEqualTo(1);
            assertThat(problems(json)).singleElement().asString().contains("more than one de_enrolled log row");
        }
    }

    @Test
    void findsAStuckLead() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Scenario s = healthy(db);
            Fixtures f = new Fixtures(db.db().dsl());
            // finished its sequence, last message long ago, never de-enrolled
            f.lead(s.clientB(), s.campaignB1(), 1);
            f.recount();

            Cli.Result verify = Cli.run(db, "verify", "--output", "json");

            assertThat(verify.exitCode()).isEqualTo(1);
            JsonNode json = Json.of(verify);
            assertThat(json.at("/stuckLeads/count").asInt()).isEqualTo(1);
            assertThat(problems(json)).singleElement().asString().contains("stuck lead");
        }
    }

    @Test
    void findsARunLeftRunningByACrashedProcess() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            healthy(db);
            db.sql("INSERT INTO de_enrollment_runs (id, invocation_id, client_id, run_type, status, run_at, heartbeat_at,"
                    + " budget_ms) VALUES ('" + UUID.randomUUID() + "', '" + UUID.randomUUID() + "', '" + UUID.randomUUID()
                    + "', 'scheduled', 'running', now() - interval '61 minutes', now() - interval '1 hour', 240000)");

            Cli.Result verify = Cli.run(db, "verify", "--output", "json");

            assertThat(verify.exitCode()).isEqualTo(1);
            JsonNode json = Json.of(verify);
            assertThat(json.get("staleRunningRuns").asInt()).isEqualTo(1);
            assertThat(problems(json)).singleElement().asString().contains("left 'running'");
        }
    }

    @Test
    void findsTheSameEnrollmentTwiceInALeadsHistory() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Scenario s = healthy(db);
            // the entry the run appended, appended once more: same campaignId and enrolledAt
            db.sql("UPDATE leads SET campaign_history = campaign_history || campaign_history"
                    + " WHERE id = '" + s.finished().get(0) + "'");

            Cli.Result verify = Cli.run(db, "verify", "--output", "json");

            assertThat(verify.exitCode()).isEqualTo(1);
            JsonNode json = Json.of(verify);
            assertThat(json.get("duplicateHistory").asInt()).isEqualTo(1);
            assertThat(problems(json)).singleElement().asString().contains("same campaign enrollment twice");
        }
    }

    @Test
    void reportsAMissingIndex() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            healthy(db);
            db.sql("DROP INDEX leads_de_enrollment_pending_idx");

            Cli.Result verify = Cli.run(db, "verify", "--output", "json");

            assertThat(verify.exitCode()).isEqualTo(1);
            JsonNode json = Json.of(verify);
            assertThat(json.get("schemaMissing")).extracting(JsonNode::asText)
                    .containsExactly("index leads_de_enrollment_pending_idx");
            assertThat(problems(json)).singleElement().asString().contains("leads_de_enrollment_pending_idx");
        }
    }

    @Test
    void textOutputNamesTheProblem() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Scenario s = healthy(db);
            db.sql("UPDATE campaigns SET booked_count = booked_count + 3 WHERE id = '" + s.campaignB1() + "'");

            Cli.Result verify = Cli.run(db, "verify");

            assertThat(verify.exitCode()).isEqualTo(1);
            assertThat(verify.out()).contains("❌").contains("counter drift").contains("booked_count")
                    .contains("verify: 1 problem(s)");
        }
    }
}
