package deenroll.ops;

import com.fasterxml.jackson.databind.JsonNode;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `reconcile-stats`: the dry run shows each drifted campaign with reported vs
 * actual and writes nothing; the real run puts all four counters back to their
 * definition and touches no campaign that had not drifted.
 */
class ReconcileStatsTest {

    private static final List<String> COUNTERS =
            List.of("active_leads_count", "completed_leads_count", "opted_out_count", "booked_count");

    /** The counters of one campaign, as stored. */
    private static Map<String, Object> counters(TestDatabase db, Object campaignId) {
        return Sql.rows(db, "SELECT active_leads_count, completed_leads_count, opted_out_count, booked_count"
                + " FROM campaigns WHERE id = ?::uuid", campaignId.toString()).get(0);
    }

    /** Drift in all four counters of A1 and in one counter of B1; A2 stays right. */
    private static void injectDrift(TestDatabase db, Scenario s) {
        db.sql("UPDATE campaigns SET active_leads_count = active_leads_count + 5,"
                + " completed_leads_count = completed_leads_count + 2, opted_out_count = opted_out_count + 1,"
                + " booked_count = booked_count + 4 WHERE id = '" + s.campaignA1() + "'");
        db.sql("UPDATE campaigns SET completed_leads_count = 0 WHERE id = '" + s.campaignB1() + "'");
    }

    private static Scenario afterARun(TestDatabase db) {
        Scenario s = Scenario.build(new Fixtures(db.db().dsl()));
        assertThat(Cli.run(db, "run").exitCode()).isZero();
        return s;
    }

    @Test
    void dryRunListsReportedAndActualAndWritesNothing() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Scenario s = afterARun(db);
            Map<String, Object> right = counters(db, s.campaignA1());
            injectDrift(db, s);
            Map<String, Object> drifted = counters(db, s.campaignA1());
            List<String> stored = Snapshots.campaignState(db);

            Cli.Result dry = Cli.run(db, "reconcile-stats", "--dry-run", "--output", "json");

            assertThat(dry.exitCode()).as(dry.err()).isZero();
            JsonNode json = Json.of(dry);
            assertThat(json.get("drifted")).extracting(d -> d.get("campaignId").asText())
                    .containsExactlyInAnyOrder(s.campaignA1().toString(), s.campaignB1().toString());
            JsonNode a1 = null;
            for (JsonNode d : json.get("drifted")) {
                if (d.get("campaignId").asText().equals(s.campaignA1().toString())) {
                    a1 = d;
                }
            }
            for (String counter : COUNTERS) {
                assertThat(a1.at("/" + counter + "/reported").asLong()).as(counter)
                        .isEqualTo(((Number) drifted.get(counter)).longValue());
                assertThat(a1.at("/" + counter + "/actual").asLong()).as(counter)
                        .isEqualTo(((Number) right.get(counter)).longValue());
            }
            assertThat(json.get("fixed").asInt()).isZero();
            assertThat(Snapshots.campaignState(db)).containsExactlyElementsOf(stored);
        }
    }

    @Test
    void dryRunTextNamesTheCampaignAndTheChange() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Scenario s = afterARun(db);
            db.sql("UPDATE campaigns SET booked_count = 17 WHERE id = '" + s.campaignB1() + "'");
            long actual = Sql.number(db, "SELECT count(*) FROM leads WHERE booked AND campaign_link_id = ?::uuid",
                    s.campaignB1().toString());

            Cli.Result dry = Cli.run(db, "reconcile-stats", "--dry-run");

            assertThat(dry.exitCode()).isZero();
            assertThat(dry.out()).contains(s.campaignB1().toString()).contains("booked_count 17 → " + actual)
                    .contains("nothing written");
            assertThat(Sql.number(db, "SELECT booked_count FROM campaigns WHERE id = ?::uuid", s.campaignB1().toString()))
                    .isEqualTo(17);
        }
    }

    @Test
    void fixesDriftInAllFourCounters() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Scenario s = afterARun(db);
            Fixtures f = new Fixtures(db.db().dsl());
            List<String> right = Snapshots.campaignState(db);
            injectDrift(db, s);
            assertThat(f.drift()).isEqualTo(2);

            Cli.Result fix = Cli.run(db, "reconcile-stats", "--output", "json");

            assertThat(fix.exitCode()).as(fix.err()).isZero();
            assertThat(f.drift()).isZero();
            assertThat(Snapshots.campaignState(db)).containsExactlyElementsOf(right);
            assertThat(Json.of(fix).get("fixed").asInt()).isEqualTo(2);
            // a second pass finds nothing left to do
            Cli.Result again = Cli.run(db, "reconcile-stats", "--output", "json");
            assertThat(Json.of(again).get("drifted")).isEmpty();
            assertThat(Json.of(again).get("fixed").asInt()).isZero();
        }
    }
}
