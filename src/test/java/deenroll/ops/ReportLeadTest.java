package deenroll.ops;

import com.fasterxml.jackson.databind.JsonNode;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `report lead <uuid>`: the on-call engineer's answer to "what happened to this
 * lead?": every journey in its history and every lead-log row with the run it
 * belongs to. A value that is not a UUID, or a lead that does not exist, is a
 * usage error (exit 2), not an empty report.
 */
class ReportLeadTest {

    private record Story(UUID lead, UUID oldCampaign, UUID campaign, String campaignName, String runId) {
    }

    /** A lead that finished an earlier campaign before, and now its current one, de-enrolled by a real run. */
    private static Story leadWithTwoJourneys(TestDatabase db) {
        Fixtures f = new Fixtures(db.db().dsl());
        UUID client = f.client("Acme Dental");
        UUID oldCampaign = f.campaign(client, 2);
        UUID campaign = f.campaign(client, 2);
        UUID lead = f.lead(client, campaign, 2, true, false);
        f.lead(client, campaign, 2);
        db.sql("UPDATE leads SET campaign_history = jsonb_build_array(jsonb_build_object('campaignId', '" + oldCampaign
                + "', 'campaignName', 'Spring promo 2025', 'enrolledAt', '2025-03-01T09:00:00Z', 'completedAt',"
                + " '2025-03-20T09:00:00Z', 'messagesReceived', 2, 'outcome', 'completed')) WHERE id = '" + lead + "'");
        f.recount();
        assertThat(Cli.run(db, "run").exitCode()).isZero();
        String runId = Sql.text(db, "SELECT run_id::text FROM de_enrollment_lead_log WHERE lead_id = ?::uuid", lead.toString());
        String name = Sql.text(db, "SELECT name FROM campaigns WHERE id = ?::uuid", campaign.toString());
        return new Story(lead, oldCampaign, campaign, name, runId);
    }

    @Test
    void showsHistoryEntriesAndLeadLogRowsWithTheirRuns() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Story s = leadWithTwoJourneys(db);

            Cli.Result report = Cli.run(db, "report", "lead", s.lead().toString(), "--output", "json");

            assertThat(report.exitCode()).as(report.err()).isZero();
            JsonNode json = Json.of(report);
            assertThat(json.at("/lead/id").asText()).isEqualTo(s.lead().toString());
            JsonNode history = json.get("history");
            assertThat(history).hasSize(2);
            assertThat(history.get(0).get("campaign_id").asText()).isEqualTo(s.oldCampaign().toString());
            assertThat(history.get(0).get("campaign").asText()).isEqualTo("Spring promo 2025");
            assertThat(history.get(1).get("campaign_id").asText()).isEqualTo(s.campaign().toString());
            assertThat(history.get(1).get("campaign").asText()).isEqualTo(s.campaignName());
            assertThat(history.get(1).get("outcome").asText()).isEqualTo("booked");
            assertThat(history.get(1).get("messages_received").asText()).isEqualTo("2");
            JsonNode log = json.get("leadLog");
            assertThat(log).hasSize(1);
            assertThat(log.get(0).get("action").asText()).isEqualTo("de_enrolled");
            assertThat(log.get(0).get("outcome").asText()).isEqualTo("booked");
            assertThat(log.get(0).get("run_id").asText()).isEqualTo(s.runId());
            assertThat(log.get(0).get("run_type").asText()).isEqualTo("scheduled");
            assertThat(log.get(0).get("run_status").asText()).isEqualTo("success");
            assertThat(log.get(0).get("run_at").isNull()).as("the run's start time").isFalse();
        }
    }

    /**
     * 0025 dropped the lead log's lead_id index: a lead's rows are found by the
     * times it was de-enrolled. A lead re-enrolled after its first
     * de-enrollment (completed_at cleared, the history entry kept), with an
     * error row in between and a history entry whose completedAt is not a
     * time, still shows every row of its own and none of the lead beside it.
     */
    @Test
    void findsEveryRowOfALeadDeEnrolledTwiceThroughItsCompletionTimes() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Story s = leadWithTwoJourneys(db);
            db.sql("UPDATE leads SET is_active = true, completed_at = NULL, campaign_history = campaign_history"
                    + " || '[{\"campaignName\": \"typed by hand\", \"completedAt\": \"last spring\"}]'::jsonb"
                    + " WHERE id = '" + s.lead() + "'");
            db.sql("INSERT INTO de_enrollment_lead_log (run_id, lead_id, client_id, campaign_id, action, messages_received,"
                    + " error_message) SELECT '" + s.runId() + "', id, client_id, campaign_link_id, 'error',"
                    + " current_message_position, 'P0001: refused by a host trigger'"
                    + " FROM leads WHERE id = '" + s.lead() + "'");
            new Fixtures(db.db().dsl()).recount();
            assertThat(Cli.run(db, "run").exitCode()).isZero();

            Cli.Result report = Cli.run(db, "report", "lead", s.lead().toString(), "--output", "json");

            assertThat(report.exitCode()).as(report.err()).isZero();
            JsonNode log = Json.of(report).get("leadLog");
            assertThat(log).hasSize(3);
            assertThat(log.get(0).get("action").asText()).isEqualTo("de_enrolled");
            assertThat(log.get(0).get("run_id").asText()).isEqualTo(s.runId());
            assertThat(log.get(1).get("action").asText()).isEqualTo("error");
            assertThat(log.get(2).get("action").asText()).isEqualTo("de_enrolled");
            assertThat(log.get(2).get("run_id").asText()).isNotEqualTo(s.runId());
            assertThat(Sql.text(db, "SELECT count(*)::text FROM de_enrollment_lead_log WHERE lead_id = ?::uuid",
                    s.lead().toString())).as("every row of the lead, read without the function").isEqualTo("3");
            assertThat(Sql.number(db, "SELECT count(*) FROM de_enrollment_lead_log"))
                    .as("the lead beside it was de-enrolled in the same batch").isEqualTo(4);
        }
    }

    @Test
    void textOutputTellsTheStory() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Story s = leadWithTwoJourneys(db);

            Cli.Result report = Cli.run(db, "report", "lead", s.lead().toString());

            assertThat(report.exitCode()).as(report.err()).isZero();
            assertThat(report.out()).contains("Spring promo 2025").contains(s.campaignName()).contains("de_enrolled")
                    .contains(s.runId());
        }
    }

    @Test
    void aValueThatIsNotAUuidExits2() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Cli.Result report = Cli.run(db, "report", "lead", "lead-42");

            assertThat(report.exitCode()).isEqualTo(2);
            assertThat(report.err()).contains("UUID");
        }
    }

    @Test
    void anUnknownLeadExits2() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            leadWithTwoJourneys(db);
            UUID unknown = UUID.randomUUID();

            Cli.Result report = Cli.run(db, "report", "lead", unknown.toString());

            assertThat(report.exitCode()).isEqualTo(2);
            assertThat(report.err()).contains(unknown.toString());
        }
    }
}
