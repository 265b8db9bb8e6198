package deenroll.engine;

import com.fasterxml.jackson.databind.JsonNode;
import deenroll.db.schema.tables.records.LeadsRecord;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.jooq.DSLContext;
import org.jooq.JSONB;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static deenroll.db.schema.Tables.DE_ENROLLMENT_LEAD_LOG;
import static deenroll.db.schema.Tables.LEADS;
import static deenroll.engine.EngineTestKit.describe;
import static deenroll.engine.EngineTestKit.history;
import static deenroll.engine.EngineTestKit.instant;
import static deenroll.engine.EngineTestKit.lead;
import static deenroll.engine.EngineTestKit.run;
import static org.assertj.core.api.Assertions.assertThat;

/** What de-enrolling does to a lead (DESIGN §3): deactivated, completed, outcome, history entry. */
@Tag("compat")
class EngineDeEnrollmentTest {

    @Test
    void leadsAtOrPastTheLastMessageAreDeEnrolledAndLeadsStillInTheSequenceAreNot() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            UUID campaign = f.campaign(client, 3);
            UUID atEnd = f.lead(client, campaign, 3);
            UUID pastEnd = f.lead(client, campaign, 7);
            UUID notStarted = f.lead(client, campaign, 0);
            UUID oneLeft = f.lead(client, campaign, 2);
            f.recount();
            LeadsRecord notStartedBefore = lead(dsl, notStarted);
            LeadsRecord oneLeftBefore = lead(dsl, oneLeft);

            Cli.Result result = run(db);

            assertThat(result.exitCode()).as(describe(result)).isZero();
            for (UUID id : List.of(atEnd, pastEnd)) {
                LeadsRecord l = lead(dsl, id);
                assertThat(l.getIsActive()).as("is_active of a finished lead").isFalse();
                assertThat(l.getCompletedAt()).as("completed_at of a finished lead").isNotNull();
            }
            // the whole row, not just the flags: nothing of an in-progress lead may change
            assertThat(lead(dsl, notStarted)).isEqualTo(notStartedBefore);
            assertThat(lead(dsl, oneLeft)).isEqualTo(oneLeftBefore);
            assertThat(f.eligible()).isZero();
        }
    }

    @Test
    void outcomeIsBookedBeforeOptedOutBeforeCompleted() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            UUID campaign = f.campaign(client, 2);
            UUID completed = f.lead(client, campaign, 2, false, false);
            UUID booked = f.lead(client, campaign, 2, true, false);
            UUID optedOut = f.lead(client, campaign, 2, false, true);
            UUID bookedAndOptedOut = f.lead(client, campaign, 2, true, true);
            f.recount();

            Cli.Result result = run(db);

            assertThat(result.exitCode()).as(describe(result)).isZero();
            assertOutcome(dsl, completed, "completed");
            assertOutcome(dsl, booked, "booked");
            assertOutcome(dsl, optedOut, "opted_out");
            // a lead that booked and then opted out still counts as a booking
            assertOutcome(dsl, bookedAndOptedOut, "booked");
        }
    }

    @Test
    void historyEntryDescribesTheFinishedJourney() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            UUID campaign = f.campaign(client, 3);
            UUID enrolled = f.lead(client, campaign, 3, false, true);
            UUID neverEnrolled = f.lead(client, campaign, 3);
            // the host app does not always set enrolled_at: created_at stands in for it
            dsl.update(LEADS).setNull(LEADS.ENROLLED_AT).where(LEADS.ID.eq(neverEnrolled)).execute();
            f.recount();
            String campaignName = EngineTestKit.campaign(dsl, campaign).getName();
            LeadsRecord enrolledBefore = lead(dsl, enrolled);
            LeadsRecord neverEnrolledBefore = lead(dsl, neverEnrolled);

            Cli.Result result = run(db);

            assertThat(result.exitCode()).as(describe(result)).isZero();
            LeadsRecord after = lead(dsl, enrolled);
            List<JsonNode> history = history(after);
            assertThat(history).hasSize(1);
            JsonNode entry = history.get(0);
            assertThat(fieldNames(entry)).containsExactlyInAnyOrder(
                    "campaignId", "campaignName", "enrolledAt", "completedAt", "messagesReceived", "outcome");
            assertThat(entry.get("campaignId").asText()).isEqualTo(campaign.toString());
            assertThat(entry.get("campaignName").asText()).isEqualTo(campaignName);
            assertThat(instant(entry.get("enrolledAt"))).isEqualTo(enrolledBefore.getEnrolledAt().toInstant());
            assertThat(instant(entry.get("completedAt"))).isEqualTo(after.getCompletedAt().toInstant());
            assertThat(entry.get("messagesReceived").asInt()).isEqualTo(3);
            assertThat(entry.get("outcome").asText()).isEqualTo("opted_out");

            JsonNode fallback = history(lead(dsl, neverEnrolled)).get(0);
            assertThat(instant(fallback.get("enrolledAt")))
                    .as("enrolledAt falls back to created_at when enrolled_at is NULL")
                    .isEqualTo(neverEnrolledBefore.getCreatedAt().toInstant());
        }
    }

    @Test
    void earlierHistoryEntriesAreKeptAndANullHistoryStartsANewArray() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            UUID campaign = f.campaign(client, 1);
            UUID returning = f.lead(client, campaign, 1);
            UUID nullHistory = f.lead(client, campaign, 1);
            String earlier = "[{\"campaignId\":\"c0ffee00-0000-0000-0000-000000000000\",\"campaignName\":\"Spring\","
                    + "\"enrolledAt\":\"2025-03-01T00:00:00+00:00\",\"completedAt\":\"2025-03-09T00:00:00+00:00\","
                    + "\"messagesReceived\":4,\"outcome\":\"booked\"},{\"note\":\"written by the host app\"}]";
            dsl.update(LEADS).set(LEADS.CAMPAIGN_HISTORY, JSONB.valueOf(earlier)).where(LEADS.ID.eq(returning)).execute();
            dsl.update(LEADS).setNull(LEADS.CAMPAIGN_HISTORY).where(LEADS.ID.eq(nullHistory)).execute();
            f.recount();

            Cli.Result result = run(db);

            assertThat(result.exitCode()).as(describe(result)).isZero();
            List<JsonNode> kept = history(lead(dsl, returning));
            List<JsonNode> before = EngineTestKit.elements(earlier);
            assertThat(kept).hasSize(3);
            assertThat(kept.subList(0, 2)).as("earlier entries, unchanged and first").isEqualTo(before);
            assertThat(kept.get(2).get("campaignId").asText()).isEqualTo(campaign.toString());

            List<JsonNode> started = history(lead(dsl, nullHistory));
            assertThat(started).as("a NULL history becomes an array of the one new entry").hasSize(1);
            assertThat(started.get(0).get("campaignId").asText()).isEqualTo(campaign.toString());
        }
    }

    private static void assertOutcome(DSLContext dsl, UUID leadId, String outcome) {
        List<JsonNode> history = history(lead(dsl, leadId));
        assertThat(history).as("history of lead %s", leadId).isNotEmpty();
        assertThat(history.get(history.size() - 1).get("outcome").asText())
                .as("outcome in the history of lead %s", leadId).isEqualTo(outcome);
        assertThat(dsl.select(DE_ENROLLMENT_LEAD_LOG.OUTCOME).from(DE_ENROLLMENT_LEAD_LOG)
                .where(DE_ENROLLMENT_LEAD_LOG.LEAD_ID.eq(leadId)).fetch(DE_ENROLLMENT_LEAD_LOG.OUTCOME))
                .as("outcome in the lead log of lead %s", leadId).containsExactly(outcome);
    }

    private static List<String> fieldNames(JsonNode object) {
        List<String> names = new ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
