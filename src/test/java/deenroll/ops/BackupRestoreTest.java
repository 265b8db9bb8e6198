package deenroll.ops;

import com.fasterxml.jackson.databind.JsonNode;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `backup` / `restore --from YYYYMMDD`: the procedure's safety net before a
 * deploy or a rollback. What matters is that a restore puts back exactly the
 * state the backup saw, and that every refusal (backup exists, no backup,
 * backup of the wrong shape) refuses before it changes anything.
 */
@Tag("compat")
class BackupRestoreTest {

    /** Realistic state to protect: some leads de-enrolled by a real run, one campaign deactivated. */
    private static Scenario deEnrolledPlatform(TestDatabase db) {
        Scenario s = Scenario.build(new Fixtures(db.db().dsl()));
        assertThat(Cli.run(db, "run").exitCode()).isZero();
        db.sql("UPDATE campaigns SET is_active = false, deactivated_at = now() - interval '3 days'"
                + " WHERE id = '" + s.campaignA2() + "'");
        return s;
    }

    /** What a broken release or a bad manual fix could do to the de-enrollment state. */
    private static void corrupt(TestDatabase db) {
        db.sql("UPDATE leads SET is_active = true, completed_at = NULL, campaign_history = '[]'"
                + " WHERE completed_at IS NOT NULL");
        db.sql("UPDATE campaigns SET is_active = NOT is_active, deactivated_at = NULL,"
                + " active_leads_count = active_leads_count + 40, completed_leads_count = 0,"
                + " opted_out_count = opted_out_count + 2, booked_count = booked_count + 5");
    }

    @Test
    void restoreGivesBackTheExactStateSavedByTheBackup() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            deEnrolledPlatform(db);
            String today = Sql.today(db);

            Cli.Result backup = Cli.run(db, "backup", "--output", "json");
            assertThat(backup.exitCode()).as(backup.err()).isZero();
            List<String> leadsAtBackup = Snapshots.leadState(db);
            List<String> campaignsAtBackup = Snapshots.campaignState(db);

            corrupt(db);
            // the corruption must be real, or the comparison below proves nothing
            assertThat(Snapshots.leadState(db)).isNotEqualTo(leadsAtBackup);
            assertThat(Snapshots.campaignState(db)).isNotEqualTo(campaignsAtBackup);

            Cli.Result restore = Cli.run(db, "restore", "--from", today, "--output", "json");
            assertThat(restore.exitCode()).as(restore.err()).isZero();
            assertThat(Snapshots.leadState(db)).containsExactlyElementsOf(leadsAtBackup);
            assertThat(Snapshots.campaignState(db)).containsExactlyElementsOf(campaignsAtBackup);
            // every lead the corruption touched (the de-enrolled ones) was put back
            assertThat(Json.of(restore).get("leadsRestored").asLong())
                    .isEqualTo(Sql.number(db, "SELECT count(*) FROM leads WHERE completed_at IS NOT NULL"));
        }
    }

    @Test
    void backupReportsRowCountsEqualToTheSourceTables() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            deEnrolledPlatform(db);
            String today = Sql.today(db);

            Cli.Result backup = Cli.run(db, "backup", "--output", "json");

            assertThat(backup.exitCode()).as(backup.err()).isZero();
            JsonNode json = Json.of(backup);
            long leads = Sql.number(db, "SELECT count(*) FROM leads");
            long campaigns = Sql.number(db, "SELECT count(*) FROM campaigns");
            assertThat(json.get("day").asText()).isEqualTo(today);
            assertThat(json.at("/leads_backup_" + today + "/rows").asLong()).isEqualTo(leads).isPositive();
            assertThat(json.at("/campaigns_backup_" + today + "/rows").asLong()).isEqualTo(campaigns).isPositive();
            assertThat(Sql.number(db, "SELECT count(*) FROM leads_backup_" + today)).isEqualTo(leads);
            assertThat(Sql.number(db, "SELECT count(*) FROM campaigns_backup_" + today)).isEqualTo(campaigns);
        }
    }

    @Test
    void secondBackupOnTheSameDayIsRefusedUnlessReplaceIsGiven() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Scenario s = deEnrolledPlatform(db);
            String today = Sql.today(db);
            assertThat(Cli.run(db, "backup").exitCode()).isZero();
            List<String> firstBackup = Snapshots.table(db, "leads_backup_" + today, "id");
            db.sql("UPDATE leads SET first_name = 'Changed' WHERE id = '" + s.inFlight().get(0) + "'");

            Cli.Result again = Cli.run(db, "backup");
            assertThat(again.exitCode()).isEqualTo(2);
            assertThat(again.err()).contains("--replace");
            // the refused backup left the first one as it was
            assertThat(Snapshots.table(db, "leads_backup_" + today, "id")).containsExactlyElementsOf(firstBackup);

            Cli.Result replaced = Cli.run(db, "backup", "--replace");
            assertThat(replaced.exitCode()).as(replaced.err()).isZero();
            assertThat(Snapshots.table(db, "leads_backup_" + today, "id"))
                    .containsExactlyElementsOf(Snapshots.table(db, "leads", "id"))
                    .isNotEqualTo(firstBackup);
        }
    }

    @Test
    void restoreFromADayWithoutBackupExits2AndChangesNothing() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            deEnrolledPlatform(db);
            assertThat(Cli.run(db, "backup").exitCode()).isZero();
            corrupt(db);
            List<String> leads = Snapshots.leadState(db);
            List<String> campaigns = Snapshots.campaignState(db);

            Cli.Result restore = Cli.run(db, "restore", "--from", "19990101");

            assertThat(restore.exitCode()).isEqualTo(2);
            assertThat(restore.err()).contains("leads_backup_19990101");
            assertThat(Snapshots.leadState(db)).containsExactlyElementsOf(leads);
            assertThat(Snapshots.campaignState(db)).containsExactlyElementsOf(campaigns);
        }
    }

    @Test
    void restoreFromABackupMissingAColumnExits2AndChangesNothing() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            deEnrolledPlatform(db);
            // a backup taken by hand, or before 0019, without completed_at
            db.sql("CREATE TABLE leads_backup_20200101 AS SELECT id, is_active, campaign_history FROM leads");
            db.sql("CREATE TABLE campaigns_backup_20200101 AS TABLE campaigns");
            corrupt(db);
            List<String> leads = Snapshots.leadState(db);
            List<String> campaigns = Snapshots.campaignState(db);

            Cli.Result restore = Cli.run(db, "restore", "--from", "20200101");

            assertThat(restore.exitCode()).isEqualTo(2);
            assertThat(restore.err()).contains("completed_at");
            assertThat(Snapshots.leadState(db)).containsExactlyElementsOf(leads);
            assertThat(Snapshots.campaignState(db)).containsExactlyElementsOf(campaigns);
        }
    }

    /**
     * auto_discovered is one of the campaign flags migration 0020 adds and the
     * 0020 rollback drops; after `rollback` + `migrate` it comes back as false,
     * so the backup is the only place it survives.
     */
    @Test
    void restoreGivesBackTheAutoDiscoveredFlag() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Scenario s = deEnrolledPlatform(db);
            db.sql("UPDATE campaigns SET auto_discovered = true WHERE id = '" + s.campaignB1() + "'");
            String flagsAtBackup = Sql.strings(db, "SELECT id || ' ' || auto_discovered FROM campaigns ORDER BY id").toString();
            assertThat(Cli.run(db, "backup").exitCode()).isZero();
            db.sql("UPDATE campaigns SET auto_discovered = NOT auto_discovered");

            Cli.Result restore = Cli.run(db, "restore", "--from", Sql.today(db));

            assertThat(restore.exitCode()).as(restore.err()).isZero();
            assertThat(Sql.strings(db, "SELECT id || ' ' || auto_discovered FROM campaigns ORDER BY id").toString())
                    .isEqualTo(flagsAtBackup);
        }
    }
}
