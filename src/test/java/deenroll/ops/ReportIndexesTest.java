package deenroll.ops;

import com.fasterxml.jackson.databind.JsonNode;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `report indexes`, the quarterly review. The old procedure selected
 * `tablename` from pg_stat_user_indexes, which has no such column, so its
 * query failed outright; this one must run and list the engine's index with
 * its scan count.
 */
class ReportIndexesTest {

    @Test
    void listsThePendingLeadsIndexWithItsScanCount() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Scenario.build(new Fixtures(db.db().dsl()));
            assertThat(Cli.run(db, "run").exitCode()).isZero();

            Cli.Result report = Cli.run(db, "report", "indexes", "--output", "json");

            assertThat(report.exitCode()).as(report.err()).isZero();
            JsonNode pending = null;
            for (JsonNode index : Json.of(report).get("indexes")) {
                if (index.get("index").asText().equals("leads_de_enrollment_pending_idx")) {
                    pending = index;
                }
            }
            assertThat(pending).as("leads_de_enrollment_pending_idx in the report").isNotNull();
            assertThat(pending.get("table").asText()).isEqualTo("leads");
            assertThat(pending.get("scans").isIntegralNumber()).as("scans is a number").isTrue();
            assertThat(pending.get("scans").asLong()).isNotNegative();
            assertThat(Json.of(report).get("indexes")).extracting(i -> i.get("table").asText())
                    .isSubsetOf("leads", "campaigns", "de_enrollment_runs", "de_enrollment_lead_log", "de_enrollment_runs_archive")
                    .contains("de_enrollment_runs", "de_enrollment_lead_log");
        }
    }

    @Test
    void textOutputListsTheIndex() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Cli.Result report = Cli.run(db, "report", "indexes");

            assertThat(report.exitCode()).as(report.err()).isZero();
            assertThat(report.out()).contains("leads_de_enrollment_pending_idx").contains("scans");
        }
    }
}
