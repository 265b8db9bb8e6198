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
 * to look: 1 when a client needs attention or leads are stuck, 0 otherwise.
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
            RunRows.run(db, birch, "now() - interval '3 hours'", "failed", 0, "connection reset");
            // older than 24 hours: not part of the morning check
            RunRows.run(db, acme, "now() - interval '25 hours'", "success", 100, null);
            RunRows.run(db, acme, "now() - interval '30 hours'", "failed", 0, "old failure");

            Cli.Result daily = Cli.run(db, "report", "daily", "--output", "json");

            assertThat(daily.exitCode()).as(daily.out() + daily.err()).isEqualTo(1);
            JsonNode json = Json.of(daily);
            assertThat(json.get("runs").asInt()).isEqualTo(7);
            assertThat(json.get("successes").asInt()).isEqualTo(5);
            assertThat(json.get("failures").asInt()).isEqualTo(1);
            assertThat(json.get("partials").asInt()).isEqualTo(1);
            assertThat(json.get("leads_de_enrolled").asInt()).isEqualTo(19);
            assertThat(json.get("clientsNeedingAttention")).extracting(c -> c.get("client_name").asText())
                    .containsExactly("Birch Legal");
        }
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
    void stuckLeadsMakeItExitOne() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Fixtures f = new Fixtures(db.db().dsl());
            Scenario s = Scenario.build(f);
            assertThat(Cli.run(db, "run").exitCode()).isZero();
            f.lead(s.clientA(), s.campaignA2(), 2);
            f.recount();

            Cli.Result daily = Cli.run(db, "report", "daily", "--output", "json");

            assertThat(daily.exitCode()).isEqualTo(1);
            assertThat(Json.of(daily).get("stuckLeads").asInt()).isEqualTo(1);
            assertThat(Json.of(daily).get("clientsNeedingAttention")).isEmpty();
        }
    }
}
