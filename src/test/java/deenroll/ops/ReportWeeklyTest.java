package deenroll.ops;

import com.fasterxml.jackson.databind.JsonNode;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `report weekly`: one row per day of the last seven, the sizes of the tables
 * the job works on, and the most frequent errors, including a failed run's
 * error_details. Runs are placed at noon of whole days back, so no row sits
 * near a day boundary.
 */
class ReportWeeklyTest {

    private static String noonDaysAgo(int days) {
        return "(date_trunc('day', now()) - interval '" + days + " days' + interval '12 hours')";
    }

    private static String day(TestDatabase db, int daysAgo) {
        return Sql.text(db, "SELECT to_char(" + noonDaysAgo(daysAgo) + ", 'YYYY-MM-DD')");
    }

    @Test
    void perDayRowsTableSizesAndTopErrors() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            UUID acme = new Fixtures(db.db().dsl()).client("Acme Dental");
            RunRows.run(db, acme, noonDaysAgo(1), "success", 4, null);
            RunRows.run(db, acme, noonDaysAgo(1), "success", 6, null);
            RunRows.run(db, acme, noonDaysAgo(1), "failed", 0, "ERROR: could not serialize access (injected)");
            RunRows.run(db, acme, noonDaysAgo(3), "success", 9, null);
            RunRows.run(db, acme, noonDaysAgo(6), "failed", 0, "ERROR: could not serialize access (injected)");
            RunRows.run(db, acme, noonDaysAgo(9), "failed", 0, "too old to be in this week");
            RunRows.leadLog(db, UUID.randomUUID(), UUID.randomUUID(), acme, "now() - interval '2 days'", "error",
                    "P0001: host trigger refused the update");

            Cli.Result weekly = Cli.run(db, "report", "weekly", "--output", "json");

            assertThat(weekly.exitCode()).as(weekly.out() + weekly.err()).isZero();
            JsonNode json = Json.of(weekly);
            Map<String, JsonNode> days = new HashMap<>();
            json.get("days").forEach(d -> days.put(d.get("day").asText(), d));
            assertThat(days).containsOnlyKeys(day(db, 1), day(db, 3), day(db, 6));
            assertThat(days.get(day(db, 1)).get("runs").asInt()).isEqualTo(3);
            assertThat(days.get(day(db, 1)).get("successes").asInt()).isEqualTo(2);
            assertThat(days.get(day(db, 1)).get("failures").asInt()).isEqualTo(1);
            assertThat(days.get(day(db, 1)).get("processed").asInt()).isEqualTo(10);
            assertThat(days.get(day(db, 3)).get("processed").asInt()).isEqualTo(9);
            assertThat(days.get(day(db, 6)).get("failures").asInt()).isEqualTo(1);

            assertThat(json.get("tableSizes")).extracting(t -> t.get("table").asText()).contains(
                    "leads", "campaigns", "de_enrollment_runs", "de_enrollment_lead_log", "de_enrollment_runs_archive");
            assertThat(json.get("tableSizes")).allSatisfy(t -> assertThat(t.get("size").asText()).isNotBlank());

            Map<String, Integer> errors = new HashMap<>();
            json.get("topErrors").forEach(e -> errors.put(e.get("error").asText(), e.get("occurrences").asInt()));
            assertThat(errors).containsEntry("ERROR: could not serialize access (injected)", 2)
                    .containsEntry("P0001: host trigger refused the update", 1)
                    .doesNotContainKey("too old to be in this week");
        }
    }

    @Test
    void textOutputShowsTheInjectedError() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            UUID acme = new Fixtures(db.db().dsl()).client("Acme Dental");
            RunRows.run(db, acme, noonDaysAgo(2), "failed", 0, "statement timeout after 300000 ms (injected)");

            Cli.Result weekly = Cli.run(db, "report", "weekly");

            assertThat(weekly.exitCode()).isZero();
            assertThat(weekly.out()).contains(day(db, 2)).contains("statement timeout after 300000 ms (injected)")
                    .contains("de_enrollment_lead_log");
        }
    }

    /**
     * The top errors read only the errors (0033): with a week of runs and lead-log rows of which a few
     * failed, each half of the query reads its partial index, not the time index and a filter.
     */
    @Test
    void theTopErrorsReadTheErrorIndexes() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            UUID acme = new Fixtures(db.db().dsl()).client("Acme Dental");
            db.sql("INSERT INTO de_enrollment_runs (id, invocation_id, client_id, run_at, run_type, status, budget_ms,"
                    + " finished_at, error_details) SELECT md5('r' || g)::uuid, md5('i' || g)::uuid, '" + acme + "',"
                    + " now() - g * interval '1 minute', 'scheduled', CASE WHEN g % 1000 = 0 THEN 'failed' ELSE 'success' END,"
                    + " 300000, now() - g * interval '1 minute', CASE WHEN g % 1000 = 0 THEN 'ERROR: injected' END"
                    + " FROM generate_series(1, 9000) AS g;"
                    + " INSERT INTO de_enrollment_lead_log (run_id, lead_id, client_id, action, error_message, processed_at)"
                    + " SELECT md5('r' || g)::uuid, md5('l' || g)::uuid, '" + acme + "',"
                    + " CASE WHEN g % 1000 = 0 THEN 'error' ELSE 'de_enrolled' END,"
                    + " CASE WHEN g % 1000 = 0 THEN 'P0001: refused' END, now() - g * interval '1 minute'"
                    + " FROM generate_series(1, 9000) AS g;"
                    + " ANALYZE de_enrollment_runs; ANALYZE de_enrollment_lead_log");

            String plan = Sql.text(db, "EXPLAIN (FORMAT JSON) " + Reports.TOP_ERRORS);

            assertThat(plan).contains("de_enrollment_runs_failed_idx").contains("de_enrollment_lead_log_errors_idx");
        }
    }
}
