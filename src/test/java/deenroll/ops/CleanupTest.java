package deenroll.ops;

import com.fasterxml.jackson.databind.JsonNode;
import deenroll.support.Cli;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `cleanup`, the monthly maintenance: runs older than the retention move to
 * de_enrollment_runs_archive whole, lead-log rows older than theirs go. Rows a
 * day on either side of each boundary show where the boundary is; the moved
 * rows are compared column by column with what they were.
 */
@Tag("compat")
class CleanupTest {

    private static final UUID CLIENT = UUID.randomUUID();

    /** id → every column of the run, as JSON text. */
    private static Map<String, String> runs(TestDatabase db, String table) {
        Map<String, String> out = new HashMap<>();
        // archived_at is the archive's own column: the moment of the move, not part of the run
        for (Map<String, Object> r : Sql.rows(db, "SELECT id::text AS id, (to_jsonb(t) - 'archived_at')::text AS row"
                + " FROM " + table + " t")) {
            out.put((String) r.get("id"), (String) r.get("row"));
        }
        return out;
    }

    private static List<String> leadLogIds(TestDatabase db) {
        return Sql.strings(db, "SELECT lead_id::text FROM de_enrollment_lead_log ORDER BY lead_id");
    }

    private static UUID logRow(TestDatabase db, String processedAt) {
        UUID lead = UUID.randomUUID();
        RunRows.leadLog(db, UUID.randomUUID(), lead, CLIENT, processedAt, "de_enrolled", null);
        return lead;
    }

    private static List<String> everything(TestDatabase db) {
        List<String> all = new ArrayList<>();
        all.addAll(Snapshots.table(db, "de_enrollment_runs", "id"));
        all.addAll(Snapshots.table(db, "de_enrollment_runs_archive", "id"));
        all.addAll(Snapshots.table(db, "de_enrollment_lead_log", "id"));
        return all;
    }

    @Test
    void defaultBoundariesAre90DaysForRunsAnd30DaysForTheLeadLog() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            UUID keep89 = RunRows.run(db, CLIENT, "now() - interval '89 days'", "success");
            UUID move91 = RunRows.run(db, CLIENT, "now() - interval '91 days'", "success");
            UUID move91Failed = RunRows.run(db, CLIENT, "now() - interval '91 days'", "failed");
            UUID recent = RunRows.run(db, CLIENT, "now() - interval '1 hour'", "partial");
            UUID keepLog29 = logRow(db, "now() - interval '29 days'");
            logRow(db, "now() - interval '31 days'");
            Map<String, String> before = runs(db, "de_enrollment_runs");

            Cli.Result cleanup = Cli.run(db, "cleanup", "--output", "json");

            assertThat(cleanup.exitCode()).as(cleanup.err()).isZero();
            JsonNode json = Json.of(cleanup);
            assertThat(json.get("runsArchived").asInt()).isEqualTo(2);
            assertThat(json.get("leadLogDeleted").asInt()).isEqualTo(1);
            assertThat(runs(db, "de_enrollment_runs")).containsOnlyKeys(keep89.toString(), recent.toString());
            Map<String, String> archived = runs(db, "de_enrollment_runs_archive");
            assertThat(archived).containsOnlyKeys(move91.toString(), move91Failed.toString());
            // every column of a moved run is what it was
            archived.forEach((id, row) -> assertThat(row).as(id).isEqualTo(before.get(id)));
            assertThat(Sql.number(db, "SELECT count(*) FROM de_enrollment_runs_archive WHERE archived_at IS NULL")).isZero();
            assertThat(leadLogIds(db)).containsExactly(keepLog29.toString());
        }
    }

    @Test
    void optionsMoveTheBoundaries() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            UUID keep29 = RunRows.run(db, CLIENT, "now() - interval '29 days'", "success");
            UUID move31 = RunRows.run(db, CLIENT, "now() - interval '31 days'", "success");
            UUID keepLog9 = logRow(db, "now() - interval '9 days'");
            logRow(db, "now() - interval '11 days'");

            Cli.Result cleanup = Cli.run(db, "cleanup", "--runs-days", "30", "--lead-log-days", "10", "--output", "json");

            assertThat(cleanup.exitCode()).as(cleanup.err()).isZero();
            assertThat(Json.of(cleanup).get("runsArchived").asInt()).isEqualTo(1);
            assertThat(Json.of(cleanup).get("leadLogDeleted").asInt()).isEqualTo(1);
            assertThat(runs(db, "de_enrollment_runs")).containsOnlyKeys(keep29.toString());
            assertThat(runs(db, "de_enrollment_runs_archive")).containsOnlyKeys(move31.toString());
            assertThat(leadLogIds(db)).containsExactly(keepLog9.toString());
        }
    }

    @Test
    void aRunStillMarkedRunningIsNotArchivedWhateverItsAge() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            UUID running = RunRows.run(db, CLIENT, "now() - interval '120 days'", "running");

            Cli.Result cleanup = Cli.run(db, "cleanup", "--output", "json");

            assertThat(cleanup.exitCode()).as(cleanup.err()).isZero();
            assertThat(Json.of(cleanup).get("runsArchived").asInt()).isZero();
            assertThat(runs(db, "de_enrollment_runs")).containsOnlyKeys(running.toString());
            assertThat(runs(db, "de_enrollment_runs_archive")).isEmpty();
        }
    }

    @Test
    void dryRunReportsTheCountsAndChangesNothing() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            RunRows.run(db, CLIENT, "now() - interval '89 days'", "success");
            RunRows.run(db, CLIENT, "now() - interval '91 days'", "success");
            RunRows.run(db, CLIENT, "now() - interval '95 days'", "failed");
            RunRows.run(db, CLIENT, "now() - interval '95 days'", "running");
            logRow(db, "now() - interval '29 days'");
            logRow(db, "now() - interval '31 days'");
            logRow(db, "now() - interval '40 days'");
            logRow(db, "now() - interval '50 days'");
            List<String> state = everything(db);

            Cli.Result dry = Cli.run(db, "cleanup", "--dry-run", "--output", "json");

            assertThat(dry.exitCode()).as(dry.err()).isZero();
            JsonNode json = Json.of(dry);
            assertThat(json.get("dryRun").asBoolean()).isTrue();
            assertThat(json.get("runsArchived").asInt()).isEqualTo(2);
            assertThat(json.get("leadLogDeleted").asInt()).isEqualTo(3);
            assertThat(everything(db)).containsExactlyElementsOf(state);
        }
    }

    @Test
    void runningCleanupTwiceIsHarmless() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            RunRows.run(db, CLIENT, "now() - interval '89 days'", "success");
            RunRows.run(db, CLIENT, "now() - interval '91 days'", "success");
            logRow(db, "now() - interval '29 days'");
            logRow(db, "now() - interval '31 days'");
            assertThat(Cli.run(db, "cleanup").exitCode()).isZero();
            List<String> afterFirst = everything(db);

            Cli.Result second = Cli.run(db, "cleanup", "--output", "json");

            assertThat(second.exitCode()).as(second.err()).isZero();
            assertThat(Json.of(second).get("runsArchived").asInt()).isZero();
            assertThat(Json.of(second).get("leadLogDeleted").asInt()).isZero();
            assertThat(everything(db)).containsExactlyElementsOf(afterFirst);
        }
    }
    private static void backupTables(TestDatabase db, String day) {
        db.sql("CREATE TABLE leads_backup_" + day + " AS TABLE leads; CREATE TABLE campaigns_backup_" + day + " AS TABLE campaigns;"
                + " CREATE TABLE de_enrollment_lead_log_backup_" + day + " AS TABLE de_enrollment_lead_log");
    }

    private static String daysAgo(TestDatabase db, int days) {
        return Sql.text(db, "SELECT to_char(now() - make_interval(days => " + days + "), 'YYYYMMDD')");
    }

    @Test
    void backupsOlderThan30DaysAreDroppedWithEveryTableOfTheirDayButNeverTheNewest() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            String old = daysAgo(db, 31);
            String recent = daysAgo(db, 29);
            backupTables(db, old);
            backupTables(db, recent);

            Cli.Result dryRun = Cli.run(db, "cleanup", "--dry-run");
            assertThat(dryRun.out()).contains("would drop 1 backup(s) older than 30 days: " + old);
            assertThat(Sql.relationExists(db, "leads_backup_" + old)).isTrue();

            Cli.Result cleanup = Cli.run(db, "cleanup", "--output", "json");

            assertThat(cleanup.exitCode()).as(cleanup.err()).isZero();
            assertThat(Json.of(cleanup).get("backupsDropped").toString()).isEqualTo("[\"" + old + "\"]");
            assertThat(Sql.relationExists(db, "leads_backup_" + old)).isFalse();
            assertThat(Sql.relationExists(db, "campaigns_backup_" + old)).isFalse();
            assertThat(Sql.relationExists(db, "de_enrollment_lead_log_backup_" + old)).isFalse();
            assertThat(Sql.relationExists(db, "leads_backup_" + recent)).isTrue();

            // the newest backup stays, however old: it may be the only way back
            db.sql("DROP TABLE leads_backup_" + recent + ", campaigns_backup_" + recent + ", de_enrollment_lead_log_backup_" + recent);
            String older = daysAgo(db, 60);
            backupTables(db, older);
            assertThat(Cli.run(db, "cleanup").exitCode()).isZero();
            assertThat(Sql.relationExists(db, "leads_backup_" + older)).isTrue();
        }
    }

    @Test
    void aRetentionBelowTheProceduresMinimumIsAUsageError() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            backupTables(db, daysAgo(db, 20));
            backupTables(db, daysAgo(db, 10));

            Cli.Result cleanup = Cli.run(db, "cleanup", "--backup-days", "7");

            assertThat(cleanup.exitCode()).isEqualTo(2);
            assertThat(cleanup.err()).contains("--backup-days: expected an integer from 30");
            assertThat(Sql.relationExists(db, "leads_backup_" + daysAgo(db, 20))).isTrue();
        }
    }
}
