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
 * `report daily`, the morning check: its counts are those of the last 24 hours
 * exactly (older runs excluded), and its exit code says whether anyone needs
 * to look, by health-check's own rules: 1 exactly when health-check would not
 * say OK, and the findings it lists are health-check's.
 */
class ReportDailyTest {

    @Test
    void countsTheLast24HoursAndFlagsTheClientWithAFailure() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Fixtures f = new Fixtures(db.db().dsl());
            UUID acme = f.client("Acme Dental");
            UUID birch = f.client("Birch Legal");
            RunRows.run(db, acme, "now() - interval '20 minutes'", "success", 5, null);
            RunRows.run(db, acme, "now() - interval '2 hours'", "success", 7, null);
            RunRows.run(db, acme, "now() - interval '12 hours'", "success", 0, null);
            RunRows.run(db, acme, "now() - interval '23 hours'", "partial", 4, null);
            RunRows.run(db, birch, "now() - interval '30 minutes'", "success", 1, null);
            RunRows.run(db, birch, "now() - interval '6 hours'", "success", 2, null);
            for (int i = 0; i < 6; i++) {
                RunRows.run(db, birch, "now() - interval '3 hours'", "failed", 0, "connection reset");
            }
            // older than 24 hours: not part of the morning check
            RunRows.run(db, acme, "now() - interval '25 hours'", "success", 100, null);
            RunRows.run(db, acme, "now() - interval '30 hours'", "failed", 0, "old failure");

            Cli.Result daily = Cli.run(db, "report", "daily", "--output", "json");

            assertThat(daily.exitCode()).as(daily.out() + daily.err()).isEqualTo(1);
            JsonNode json = Json.of(daily);
            assertThat(json.get("runs").asInt()).isEqualTo(12);
            assertThat(json.get("successes").asInt()).isEqualTo(5);
            assertThat(json.get("failures").asInt()).isEqualTo(6);
            assertThat(json.get("partials").asInt()).isEqualTo(1);
            assertThat(json.get("leads_de_enrolled").asInt()).isEqualTo(19);
            assertThat(json.get("clientsNeedingAttention")).extracting(c -> c.get("client_name").asText())
                    .containsExactly("Birch Legal");
            assertThat(json.get("clientsNeedingAttention").get(0).get("client_id").asText()).isEqualTo(birch.toString());
            assertThat(json.get("healthStatus").asText()).isEqualTo("WARNING");
            assertThat(json.get("needsAttention")).extracting(n -> n.get("rule").asText()).contains("failed_runs");
        }
    }

    @Test
    void agreesWithHealthCheckWhetherAnythingNeedsAttention() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Fixtures f = new Fixtures(db.db().dsl());
            UUID acme = f.client("Acme Dental");
            UUID campaign = f.campaign(acme, 2);
            // one failed run in twenty: within every limit, so neither calls for attention
            for (int i = 0; i < 19; i++) {
                RunRows.run(db, acme, "now() - interval '10 minutes'", "success");
            }
            RunRows.run(db, acme, "now() - interval '1 hour'", "failed");
            assertAgree(db, 0);

            // a second failure: the success rate drops below 95 %, and both say so
            RunRows.run(db, acme, "now() - interval '1 hour'", "failed");
            assertAgree(db, 1);

            // a few stuck leads are within the stuck-leads rule; 101 are not
            db.sql("DELETE FROM de_enrollment_runs WHERE status = 'failed'");
            f.leads(acme, campaign, 2, 3);
            f.recount();
            assertAgree(db, 0);
            f.leads(acme, campaign, 2, 98);
            f.recount();
            assertAgree(db, 1);
        }
    }

    private static void assertAgree(TestDatabase db, int dailyExit) {
        Cli.Result health = Cli.run(db, "health-check");
        Cli.Result daily = Cli.run(db, "report", "daily");
        assertThat(daily.exitCode()).as("report daily: %s%nhealth-check: %s", daily.out(), health.out()).isEqualTo(dailyExit);
        assertThat(health.exitCode() != 0).as("health-check: %s", health.out()).isEqualTo(dailyExit != 0);
        health.out().lines().filter(l -> l.startsWith("⚠️") || l.startsWith("❌"))
                .forEach(problem -> assertThat(daily.out()).contains(problem));
    }

    @Test
    void exitsZeroWhenEveryClientRanSuccessfullyAndNothingIsStuck() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Scenario s = Scenario.build(new Fixtures(db.db().dsl()));
            assertThat(Cli.run(db, "run").exitCode()).isZero();

            Cli.Result daily = Cli.run(db, "report", "daily", "--output", "json");

            assertThat(daily.exitCode()).as(daily.out() + daily.err()).isZero();
            JsonNode json = Json.of(daily);
            assertThat(json.get("runs").asInt()).isEqualTo(2);
            assertThat(json.get("successes").asInt()).isEqualTo(2);
            assertThat(json.get("failures").asInt()).isZero();
            assertThat(json.get("leads_de_enrolled").asInt()).isEqualTo(s.finished().size());
            assertThat(json.get("stuckLeads").asInt()).isZero();
            assertThat(json.get("clientsNeedingAttention")).isEmpty();
        }
    }

    @Test
    void aClientWithoutSuccessForMoreThanTwoHoursNeedsAttention() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Fixtures f = new Fixtures(db.db().dsl());
            UUID acme = f.client("Acme Dental");
            UUID birch = f.client("Birch Legal");
            RunRows.run(db, acme, "now() - interval '3 hours'", "success");
            RunRows.run(db, birch, "now() - interval '10 minutes'", "success");

            Cli.Result daily = Cli.run(db, "report", "daily", "--output", "json");

            assertThat(daily.exitCode()).isEqualTo(1);
            assertThat(Json.of(daily).get("clientsNeedingAttention")).extracting(c -> c.get("client_name").asText())
                    .containsExactly("Acme Dental");
        }
    }

    @Test
    void stuckLeadsAreCountedAndJudgedByTheStuckLeadsRule() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Fixtures f = new Fixtures(db.db().dsl());
            Scenario s = Scenario.build(f);
            assertThat(Cli.run(db, "run").exitCode()).isZero();
            f.lead(s.clientA(), s.campaignA2(), 2);
            f.recount();

            Cli.Result one = Cli.run(db, "report", "daily", "--output", "json");
            for (int i = 0; i < 100; i++) {
                f.lead(s.clientA(), s.campaignA2(), 2);
            }
            f.recount();
            Cli.Result many = Cli.run(db, "report", "daily", "--output", "json");

            assertThat(one.exitCode()).as("1 stuck lead is within the rule (above 100 warns): %s", one.out()).isZero();
            assertThat(Json.of(one).get("stuckLeads").asInt()).isEqualTo(1);
            assertThat(many.exitCode()).isEqualTo(1);
            assertThat(Json.of(many).get("stuckLeads").asInt()).isEqualTo(101);
            assertThat(Json.of(many).get("needsAttention")).extracting(n -> n.get("rule").asText()).containsExactly("stuck_leads");
            assertThat(Json.of(many).get("clientsNeedingAttention")).isEmpty();
        }
    }
}
