package deenroll.engine;

import deenroll.db.schema.tables.records.DeEnrollmentRunsRecord;
import deenroll.db.schema.tables.records.LeadsRecord;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static deenroll.db.schema.Tables.CAMPAIGNS;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_LEAD_LOG;
import static deenroll.db.schema.Tables.LEADS;
import static deenroll.engine.EngineTestKit.describe;
import static deenroll.engine.EngineTestKit.lead;
import static deenroll.engine.EngineTestKit.leads;
import static deenroll.engine.EngineTestKit.logRows;
import static deenroll.engine.EngineTestKit.run;
import static deenroll.engine.EngineTestKit.runRows;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The edges of "eligible" (DESIGN §3): malformed sequences, deactivated
 * campaigns, inactive clients and leads that are not eligible (§4 invariant 3:
 * never touched).
 */
@Tag("compat")
class EligibilityEdgeCasesTest {

    @Test
    void campaignsWithoutAWellFormedSequenceNeverDeEnrollAndDoNotFailTheRun() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            List<UUID> malformed = new ArrayList<>();
            // SQL NULL, empty array, object, string, JSON null, number, boolean: none is a sequence
            for (String messages : new String[] {null, "[]", "{\"steps\":[{\"text\":\"hi\"}]}", "\"three messages\"",
                    "null", "3", "true"}) {
                UUID campaign = f.campaignWithMessages(client, messages);
                for (int position : new int[] {0, 1, 3, 50}) {
                    malformed.add(f.lead(client, campaign, position));
                }
            }
            // a healthy campaign in the same client: the run must not stop at the malformed ones
            UUID healthy = f.lead(client, f.campaign(client, 1), 1);
            f.recount();
            Map<UUID, LeadsRecord> before = leads(dsl);

            assertThat(f.eligible()).as("eligible leads (the view must not raise either)").isEqualTo(1);
            Cli.Result dry = run(db, "--dry-run");
            Cli.Result result = run(db);

            assertThat(dry.exitCode()).as(describe(dry)).isZero();
            assertThat(result.exitCode()).as(describe(result)).isZero();
            for (UUID id : malformed) {
                assertThat(lead(dsl, id)).as("lead %s of a campaign without a sequence", id).isEqualTo(before.get(id));
            }
            assertThat(lead(dsl, healthy).getIsActive()).isFalse();
            DeEnrollmentRunsRecord run = runRows(dsl).get(0);
            assertThat(run.getStatus()).isEqualTo("success");
            assertThat(run.getLeadsEvaluated()).as("leads locked by the run").isEqualTo(1);
            assertThat(run.getLeadsDeEnrolled()).isEqualTo(1);
            assertThat(f.drift()).isZero();
        }
    }

    @Test
    void anArrayOfNullsIsASequenceOfItsLength() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            // "a JSON array with at least one element": [null] is one, whatever the element holds
            UUID one = f.campaignWithMessages(client, "[null]");
            UUID three = f.campaignWithMessages(client, "[null, null, null]");
            UUID oneNotStarted = f.lead(client, one, 0);
            UUID oneFinished = f.lead(client, one, 1);
            UUID threeInProgress = f.lead(client, three, 2);
            UUID threeFinished = f.lead(client, three, 3);
            f.recount();
            Map<UUID, LeadsRecord> before = leads(dsl);

            Cli.Result result = run(db);

            assertThat(result.exitCode()).as(describe(result)).isZero();
            assertThat(lead(dsl, oneFinished).getIsActive()).isFalse();
            assertThat(lead(dsl, threeFinished).getIsActive()).isFalse();
            assertThat(lead(dsl, oneNotStarted)).isEqualTo(before.get(oneNotStarted));
            assertThat(lead(dsl, threeInProgress)).isEqualTo(before.get(threeInProgress));
            assertThat(f.drift()).isZero();
        }
    }

    @Test
    void aDeactivatedCampaignStillCompletesItsLeads() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            UUID campaign = f.campaign(client, 2);
            UUID finished = f.lead(client, campaign, 2, true, false);
            UUID inProgress = f.lead(client, campaign, 1);
            dsl.update(CAMPAIGNS).set(CAMPAIGNS.IS_ACTIVE, false).set(CAMPAIGNS.DEACTIVATED_AT, Fixtures.LONG_AGO)
                    .where(CAMPAIGNS.ID.eq(campaign)).execute();
            f.recount();
            LeadsRecord inProgressBefore = lead(dsl, inProgress);

            Cli.Result result = run(db);

            assertThat(result.exitCode()).as(describe(result)).isZero();
            LeadsRecord done = lead(dsl, finished);
            assertThat(done.getIsActive()).as("finished lead of a deactivated campaign, active").isFalse();
            assertThat(done.getCompletedAt()).isNotNull();
            assertThat(logRows(dsl, finished, "de_enrolled")).isEqualTo(1);
            assertThat(lead(dsl, inProgress)).isEqualTo(inProgressBefore);
            assertThat(f.drift()).isZero();
        }
    }

    @Test
    void anInactiveClientIsSkippedByAllClientRunsButRunsWhenNamed() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID active = f.client("Active Co");
            UUID activeLead = f.lead(active, f.campaign(active, 1), 1);
            UUID dormant = f.client("Dormant Co", false);
            UUID dormantCampaign = f.campaign(dormant, 1);
            UUID dormantLead = f.lead(dormant, dormantCampaign, 1);
            UUID dormantLead2 = f.lead(dormant, dormantCampaign, 4);
            f.recount();
            Map<UUID, LeadsRecord> before = leads(dsl);

            Cli.Result all = run(db);

            assertThat(all.exitCode()).as(describe(all)).isZero();
            assertThat(runRows(dsl)).extracting(DeEnrollmentRunsRecord::getClientId).containsExactly(active);
            assertThat(lead(dsl, activeLead).getIsActive()).isFalse();
            assertThat(lead(dsl, dormantLead)).isEqualTo(before.get(dormantLead));
            assertThat(lead(dsl, dormantLead2)).isEqualTo(before.get(dormantLead2));

            Cli.Result named = run(db, "--client-id", dormant.toString());

            assertThat(named.exitCode()).as(describe(named)).isZero();
            List<DeEnrollmentRunsRecord> dormantRuns = runRows(dsl, dormant);
            assertThat(dormantRuns).hasSize(1);
            assertThat(dormantRuns.get(0).getRunType()).isEqualTo("manual");
            assertThat(dormantRuns.get(0).getLeadsDeEnrolled()).isEqualTo(2);
            assertThat(lead(dsl, dormantLead).getIsActive()).isFalse();
            assertThat(lead(dsl, dormantLead2).getIsActive()).isFalse();
            assertThat(f.drift()).isZero();
        }
    }

    @Test
    void leadsThatAreNotEligibleAreNeverTouched() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            UUID campaign = f.campaign(client, 2);
            // completed earlier (completed_at set) yet still flagged active by the host app
            UUID alreadyCompleted = f.lead(client, campaign, 2);
            dsl.update(LEADS).set(LEADS.COMPLETED_AT, Fixtures.LONG_AGO).where(LEADS.ID.eq(alreadyCompleted)).execute();
            // stopped by the host app at the end of the sequence
            UUID inactiveAtEnd = f.lead(client, campaign, 2);
            dsl.update(LEADS).set(LEADS.IS_ACTIVE, false).where(LEADS.ID.eq(inactiveAtEnd)).execute();
            // in no campaign at all, far along
            UUID noCampaign = f.lead(client, null, 40);
            // a position the host app uses for "not started yet"
            UUID minusOne = f.lead(client, campaign, -1);
            UUID minusOneShort = f.lead(client, f.campaign(client, 1), -1);
            UUID eligible = f.lead(client, campaign, 2);
            f.recount();
            Map<UUID, LeadsRecord> before = leads(dsl);

            Cli.Result result = run(db);

            assertThat(result.exitCode()).as(describe(result)).isZero();
            for (UUID id : List.of(alreadyCompleted, inactiveAtEnd, noCampaign, minusOne, minusOneShort)) {
                assertThat(lead(dsl, id)).as("non-eligible lead %s", id).isEqualTo(before.get(id));
                assertThat(dsl.fetchCount(DE_ENROLLMENT_LEAD_LOG, DE_ENROLLMENT_LEAD_LOG.LEAD_ID.eq(id)))
                        .as("log rows of non-eligible lead %s", id).isZero();
            }
            assertThat(lead(dsl, eligible).getIsActive()).isFalse();
            DeEnrollmentRunsRecord run = runRows(dsl).get(0);
            assertThat(run.getLeadsEvaluated()).as("leads the run locked").isEqualTo(1);
            assertThat(f.drift()).isZero();
        }
    }
}
