package deenroll.ops;

import com.fasterxml.jackson.databind.JsonNode;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `backup` / `restore --from YYYYMMDD`: the way back from a release that
 * de-enrolled wrongly. A restore puts back only what deenroll did after the
 * backup, never what the host application changed; it shows its plan and
 * changes nothing without --yes; it needs the pause and no live invocation,
 * and leaves the pause in force; and it accepts only a backup recorded by
 * `deenroll backup` whose tables still hold what was recorded.
 */
@Tag("compat")
class BackupRestoreTest {

    /** The state of one lead: is_active, completed_at, campaign_history. */
    private static String leadState(TestDatabase db, UUID lead) {
        return Sql.text(db, "SELECT row(is_active, completed_at, campaign_history)::text FROM leads WHERE id = ?", lead);
    }

    @Test
    void restorePutsBackOnlyTheLeadsDeenrollDeEnrolledSinceTheBackupAndLeavesTheHostsChanges() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Fixtures f = new Fixtures(db.db().dsl());
            Scenario s = Scenario.build(f);
            assertThat(Cli.run(db, "backup").exitCode()).isZero();
            List<String> atBackup = Snapshots.leadState(db);
            UUID optedOutByHost = s.finished().get(0);
            UUID deactivatedByHost = s.inFlight().get(0);
            UUID reactivatedByHost = s.finished().get(1);
            // after the backup: the host opts one finished lead out (before any run) and deactivates one in flight
            db.sql("UPDATE leads SET opted_out = true, is_active = false WHERE id = '" + optedOutByHost + "'");
            db.sql("UPDATE leads SET is_active = false WHERE id = '" + deactivatedByHost + "'");
            f.recount();
            assertThat(Cli.run(db, "run").exitCode()).isZero();
            // and re-activates one lead deenroll had just de-enrolled
            db.sql("UPDATE leads SET is_active = true WHERE id = '" + reactivatedByHost + "'");
            String optedOut = leadState(db, optedOutByHost);
            String deactivated = leadState(db, deactivatedByHost);
            String reactivated = leadState(db, reactivatedByHost);
            long deEnrolledByRun = Sql.number(db, "SELECT count(*) FROM de_enrollment_lead_log WHERE action = 'de_enrolled'");
            assertThat(deEnrolledByRun).isGreaterThan(2);
            Operators.pause(db);

            Cli.Result restore = Cli.run(db, "restore", "--from", Sql.today(db), "--yes", "--output", "json");

            assertThat(restore.exitCode()).as(restore.err()).isZero();
            // the host's changes, made after the backup, are still there
            assertThat(leadState(db, optedOutByHost)).isEqualTo(optedOut);
            assertThat(leadState(db, deactivatedByHost)).isEqualTo(deactivated);
            assertThat(leadState(db, reactivatedByHost)).isEqualTo(reactivated);
            // every other lead is as the backup saw it
            List<UUID> hostTouched = List.of(optedOutByHost, deactivatedByHost, reactivatedByHost);
            assertThat(Snapshots.leadState(db).stream().filter(row -> hostTouched.stream().noneMatch(id -> row.startsWith(id.toString()))))
                    .containsExactlyElementsOf(atBackup.stream()
                            .filter(row -> hostTouched.stream().noneMatch(id -> row.startsWith(id.toString()))).toList());
            JsonNode json = Json.of(restore);
            // the re-activated lead was de-enrolled by the run, then changed by the host: left as the host made it
            assertThat(json.get("leadsRestored").asLong()).isEqualTo(deEnrolledByRun - 1);
            assertThat(json.get("leadsChangedByHostLeftAlone").asLong()).isEqualTo(1);
            assertThat(json.get("campaignsRestored").asLong()).as("each campaign counted once").isEqualTo(3);
            assertThat(f.drift()).as("counters recomputed by their definition").isZero();
        }
    }

    @Test
    void withoutYesRestorePrintsThePlanPerClientAndChangesNothing() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Scenario.build(new Fixtures(db.db().dsl()));
            assertThat(Cli.run(db, "backup").exitCode()).isZero();
            assertThat(Cli.run(db, "run").exitCode()).isZero();
            List<String> leads = Snapshots.leadState(db);
            List<String> campaigns = Snapshots.campaignState(db);

            Cli.Result plan = Cli.run(db, "restore", "--from", Sql.today(db));

            assertThat(plan.exitCode()).as(plan.err()).isZero();
            assertThat(plan.out()).contains("nothing changed", "--yes",
                    "Acme Dental", "Brightside Realty", "would put back 9 lead(s) and 3 campaign(s)");
            assertThat(plan.out()).containsPattern("Acme Dental \\(.*\\): 7 lead\\(s\\), 2 campaign\\(s\\)");
            assertThat(Snapshots.leadState(db)).containsExactlyElementsOf(leads);
            assertThat(Snapshots.campaignState(db)).containsExactlyElementsOf(campaigns);
        }
    }

    @Test
    void restoreRefusesUnlessPausedAndWhileAnInvocationIsRunningAndChangesNothing() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Scenario.build(new Fixtures(db.db().dsl()));
            assertThat(Cli.run(db, "backup").exitCode()).isZero();
            assertThat(Cli.run(db, "run").exitCode()).isZero();
            List<String> leads = Snapshots.leadState(db);

            Cli.Result notPaused = Cli.run(db, "restore", "--from", Sql.today(db), "--yes");
            Operators.pause(db);
            Operators.liveInvocation(db);
            Cli.Result running = Cli.run(db, "restore", "--from", Sql.today(db), "--yes");

            assertThat(notPaused.exitCode()).isEqualTo(2);
            assertThat(notPaused.err()).contains("not paused", "deenroll pause");
            assertThat(running.exitCode()).isEqualTo(2);
            assertThat(running.err()).contains("1 invocation(s) still running", "worker-7", "deenroll status");
            assertThat(Snapshots.leadState(db)).containsExactlyElementsOf(leads);
        }
    }

    /** The restored leads are still past their last message: the pause stays until the operator resumes. */
    @Test
    void afterARestoreTheNextRunDoesNotDeEnrollTheRestoredLeadsUntilResume() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Fixtures f = new Fixtures(db.db().dsl());
            Scenario.build(f);
            assertThat(Cli.run(db, "backup").exitCode()).isZero();
            assertThat(Cli.run(db, "run").exitCode()).isZero();
            Operators.pause(db);
            Cli.Result restore = Cli.run(db, "restore", "--from", Sql.today(db), "--yes");
            assertThat(restore.exitCode()).as(restore.err()).isZero();
            assertThat(restore.out()).contains("stays paused", "deenroll resume");
            int restored = f.eligible();
            assertThat(restored).isPositive();

            Cli.Result next = Cli.run(db, "run");

            assertThat(next.exitCode()).as(next.err()).isZero();
            assertThat(f.eligible()).isEqualTo(restored);
        }
    }

    /**
     * Once resumed, the next run de-enrolls the restored leads again, rightly:
     * their first de-enrollment is marked as undone by the restore, so verify
     * does not report them de-enrolled twice.
     */
    @Test
    void leadsDeEnrolledAgainAfterARestoreAreNotDeEnrolledTwiceToVerify() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Fixtures f = new Fixtures(db.db().dsl());
            Scenario.build(f);
            assertThat(Cli.run(db, "backup").exitCode()).isZero();
            assertThat(Cli.run(db, "run").exitCode()).isZero();
            long firstRun = Sql.number(db, "SELECT count(*) FROM de_enrollment_lead_log WHERE action = 'de_enrolled'");
            Operators.pause(db);
            assertThat(Cli.run(db, "restore", "--from", Sql.today(db), "--yes").exitCode()).isZero();
            assertThat(Sql.number(db, "SELECT count(*) FROM de_enrollment_lead_log WHERE restored_at IS NOT NULL"))
                    .isEqualTo(firstRun);
            assertThat(Cli.run(db, "resume").exitCode()).isZero();

            assertThat(Cli.run(db, "run").exitCode()).isZero();
            Cli.Result verify = Cli.run(db, "verify");
            // a second restore finds the second de-enrollments, not the undone first ones
            Cli.Result plan = Cli.run(db, "restore", "--from", Sql.today(db), "--output", "json");

            assertThat(f.eligible()).isZero();
            assertThat(Sql.number(db, "SELECT count(*) FROM de_enrollment_lead_log WHERE action = 'de_enrolled'"))
                    .isEqualTo(2 * firstRun);
            assertThat(verify.exitCode()).as(verify.out()).isZero();
            assertThat(verify.out()).contains("no lead de-enrolled twice");
            assertThat(Json.of(plan).get("leadsRestored").asLong()).isEqualTo(firstRun);
        }
    }

    @Test
    void backupReportsAndRecordsRowCountsEqualToTheSourceTables() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Scenario.build(new Fixtures(db.db().dsl()));
            assertThat(Cli.run(db, "run").exitCode()).isZero();
            String today = Sql.today(db);

            Cli.Result backup = Cli.run(db, "backup", "--with-history", "--output", "json");

            assertThat(backup.exitCode()).as(backup.err()).isZero();
            JsonNode json = Json.of(backup);
            long leads = Sql.number(db, "SELECT count(*) FROM leads");
            long log = Sql.number(db, "SELECT count(*) FROM de_enrollment_lead_log");
            assertThat(json.get("day").asText()).isEqualTo(today);
            assertThat(json.at("/leads_backup_" + today + "/rows").asLong()).isEqualTo(leads).isPositive();
            assertThat(json.at("/de_enrollment_lead_log_backup_" + today + "/rows").asLong()).isEqualTo(log).isPositive();
            assertThat(Sql.number(db, "SELECT count(*) FROM de_enrollment_runs_backup_" + today))
                    .isEqualTo(Sql.number(db, "SELECT count(*) FROM de_enrollment_runs"));
            String record = Sql.text(db, "SELECT obj_description('leads_backup_" + today + "'::regclass, 'pg_class')");
            assertThat(record).contains("\"tool\":\"deenroll backup\"", "\"leads_backup_" + today + "\":" + leads,
                    "\"de_enrollment_lead_log_backup_" + today + "\":" + log);
        }
    }

    @Test
    void secondBackupOnTheSameDayIsRefusedUnlessReplaceIsGiven() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Scenario s = Scenario.build(new Fixtures(db.db().dsl()));
            String today = Sql.today(db);
            assertThat(Cli.run(db, "backup").exitCode()).isZero();
            List<String> firstBackup = Snapshots.table(db, "leads_backup_" + today, "id");
            db.sql("UPDATE leads SET first_name = 'Changed' WHERE id = '" + s.inFlight().get(0) + "'");

            Cli.Result again = Cli.run(db, "backup");
            assertThat(again.exitCode()).isEqualTo(2);
            assertThat(again.err()).contains("--replace");
            assertThat(Snapshots.table(db, "leads_backup_" + today, "id")).containsExactlyElementsOf(firstBackup);

            Cli.Result replaced = Cli.run(db, "backup", "--replace");
            assertThat(replaced.exitCode()).as(replaced.err()).isZero();
            assertThat(Snapshots.table(db, "leads_backup_" + today, "id"))
                    .containsExactlyElementsOf(Snapshots.table(db, "leads", "id"))
                    .isNotEqualTo(firstBackup);
        }
    }

    @Test
    void restoreFromADayWithoutBackupExits2() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Scenario.build(new Fixtures(db.db().dsl()));
            assertThat(Cli.run(db, "backup").exitCode()).isZero();

            Cli.Result restore = Cli.run(db, "restore", "--from", "19990101");

            assertThat(restore.exitCode()).isEqualTo(2);
            assertThat(restore.err()).contains("leads_backup_19990101");
        }
    }

    /** Tables named like a backup, created by hand (here: empty), are not a backup: nothing is restored from them. */
    @Test
    void aBackupNotRecordedByTheBackupCommandOrChangedSinceIsRefused() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Scenario.build(new Fixtures(db.db().dsl()));
            db.sql("CREATE TABLE leads_backup_20200101 AS SELECT * FROM leads WHERE false");
            db.sql("CREATE TABLE campaigns_backup_20200101 AS TABLE campaigns");
            assertThat(Cli.run(db, "backup").exitCode()).isZero();
            db.sql("DELETE FROM leads_backup_" + Sql.today(db) + " WHERE id IN (SELECT id FROM leads_backup_"
                    + Sql.today(db) + " LIMIT 1)");

            Cli.Result fake = Cli.run(db, "restore", "--from", "20200101");
            Cli.Result changed = Cli.run(db, "restore", "--from", Sql.today(db));

            assertThat(fake.exitCode()).isEqualTo(2);
            assertThat(fake.err()).contains("not taken by `deenroll backup`");
            assertThat(changed.exitCode()).isEqualTo(2);
            assertThat(changed.err()).contains("changed since it was taken", "the backup recorded");
        }
    }
}
