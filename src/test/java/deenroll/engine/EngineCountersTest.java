package deenroll.engine;

import deenroll.db.schema.tables.records.CampaignsRecord;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.UUID;

import static deenroll.db.schema.Tables.DE_ENROLLMENT_LEAD_LOG;
import static deenroll.db.schema.Tables.LEADS;
import static deenroll.engine.EngineTestKit.campaigns;
import static deenroll.engine.EngineTestKit.describe;
import static deenroll.engine.EngineTestKit.run;
import static deenroll.engine.EngineTestKit.smallestCounter;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Campaign counters (DESIGN §3 "counters", §4 invariant 2): a run moves
 * active_leads_count and completed_leads_count by exactly the rows it updated,
 * never below zero, and they always equal their definition.
 */
@Tag("compat")
class EngineCountersTest {

    @Test
    void countersMoveByExactlyTheLeadsDeEnrolledAndNeverDrift() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            UUID threeSteps = f.campaign(client, 3);
            UUID twoSteps = f.campaign(client, 2);
            for (UUID campaign : new UUID[] {threeSteps, twoSteps}) {
                int end = campaign.equals(threeSteps) ? 3 : 2;
                f.lead(client, campaign, end, false, false);     // finished, counted active
                f.lead(client, campaign, end + 1, true, false);  // finished, booked, counted active
                f.lead(client, campaign, end, false, true);      // finished, opted out: never counted active
                f.lead(client, campaign, end, true, true);       // finished, booked and opted out
                f.lead(client, campaign, end - 1, false, false); // still in the sequence
                f.lead(client, campaign, 0, false, true);        // opted out before the end
                UUID stopped = f.lead(client, campaign, end);    // stopped by the host app: not eligible
                dsl.update(LEADS).set(LEADS.IS_ACTIVE, false).where(LEADS.ID.eq(stopped)).execute();
            }
            // three more finished leads on one campaign, so its counters move over several batches
            f.leads(client, twoSteps, 2, 3);
            f.recount();
            Map<UUID, CampaignsRecord> before = campaigns(dsl);

            // batch size 2: the counters are moved batch by batch, from each batch's own rows
            Cli.Result result = run(db, "--batch-size", "2");

            assertThat(result.exitCode()).as(describe(result)).isZero();
            Map<UUID, CampaignsRecord> after = campaigns(dsl);
            assertCounterMoves(dsl, before.get(threeSteps), after.get(threeSteps), 4, 2);
            assertCounterMoves(dsl, before.get(twoSteps), after.get(twoSteps), 7, 5);
            assertThat(f.drift()).as("campaigns whose counters differ from their definition").isZero();
            assertThat(smallestCounter(dsl)).as("smallest counter").isNotNegative();

            // a run with nothing to do leaves every counter as it is
            Cli.Result again = run(db, "--batch-size", "2");

            assertThat(again.exitCode()).as(describe(again)).isZero();
            assertThat(campaigns(dsl)).isEqualTo(after);
            assertThat(f.drift()).isZero();
        }
    }

    @Test
    void countersNeverGoNegativeWhenEveryLeadOfACampaignFinishes() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            UUID campaign = f.campaign(client, 1);
            f.leads(client, campaign, 1, 5);
            f.lead(client, campaign, 1, false, true);
            f.recount();

            Cli.Result result = run(db, "--batch-size", "4");

            assertThat(result.exitCode()).as(describe(result)).isZero();
            CampaignsRecord c = EngineTestKit.campaign(dsl, campaign);
            assertThat(c.getActiveLeadsCount()).as("active_leads_count once every lead finished").isZero();
            assertThat(c.getCompletedLeadsCount()).isEqualTo(6);
            assertThat(c.getOptedOutCount()).isEqualTo(1);
            assertThat(f.drift()).isZero();
        }
    }

    /**
     * active_leads_count falls by the de-enrolled leads that were not opted out,
     * completed_leads_count rises by every de-enrolled lead (as logged), the other
     * two counters stay put.
     */
    private static void assertCounterMoves(DSLContext dsl, CampaignsRecord before, CampaignsRecord after,
                                           int deEnrolled, int deEnrolledNotOptedOut) {
        int logged = dsl.fetchCount(DE_ENROLLMENT_LEAD_LOG, DE_ENROLLMENT_LEAD_LOG.CAMPAIGN_ID.eq(before.getId())
                .and(DE_ENROLLMENT_LEAD_LOG.ACTION.eq("de_enrolled")));
        assertThat(logged).as("leads de-enrolled from campaign %s", before.getName()).isEqualTo(deEnrolled);
        assertThat(after.getCompletedLeadsCount() - before.getCompletedLeadsCount())
                .as("completed_leads_count change of %s", before.getName()).isEqualTo(deEnrolled);
        assertThat(after.getActiveLeadsCount() - before.getActiveLeadsCount())
                .as("active_leads_count change of %s", before.getName()).isEqualTo(-deEnrolledNotOptedOut);
        assertThat(after.getBookedCount()).isEqualTo(before.getBookedCount());
        assertThat(after.getOptedOutCount()).isEqualTo(before.getOptedOutCount());
    }
}
