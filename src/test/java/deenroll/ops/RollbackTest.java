package deenroll.ops;

import deenroll.db.Migrator;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `rollback --to N`: the way back from a bad release. It must refuse without a
 * backup (a rollback of 0019 drops completion data), remove exactly the tool's
 * schema and nothing of the host's data, leave Flyway's history so `migrate`
 * re-applies, and leave a database on which the tool works again after `migrate`.
 */
@Tag("compat")
class RollbackTest {

    /** Host data with some history: a real run de-enrolled leads, and more leads finished since. */
    private static Scenario platformWithHistory(TestDatabase db) {
        Fixtures f = new Fixtures(db.db().dsl());
        Scenario s = Scenario.build(f);
        assertThat(Cli.run(db, "run").exitCode()).isZero();
        f.leads(s.clientA(), s.campaignA1(), 3, 2);
        f.recount();
        return s;
    }

    private static long flywayRowsAbove(TestDatabase db, int version) {
        return Sql.number(db, "SELECT count(*) FROM flyway_schema_history"
                + " WHERE version ~ '^[0-9]+$' AND version::integer > " + version);
    }

    /** The procedure: pause, then the rollback applied. */
    private static Cli.Result rollBack(TestDatabase db, String... args) {
        Operators.pause(db);
        String[] all = new String[args.length + 1];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--yes";
        return Cli.run(db, all);
    }

    /** 18 and every version db/rollback has a script for, but the newest: where a rollback can stop. */
    private static String rollbackTargets() {
        try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(java.nio.file.Path.of("db/rollback"))) {
            List<Integer> versions = files.map(p -> Integer.parseInt(p.getFileName().toString().replaceAll("^U(\\d+)__.*", "$1")))
                    .sorted().toList();
            return IntStream.concat(IntStream.of(18), versions.subList(0, versions.size() - 1).stream().mapToInt(Integer::intValue))
                    .mapToObj(String::valueOf).collect(Collectors.joining(", "));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** How many migrations a migrated database has applied above the baseline: every file in db/migration. */
    private static long migrationFiles() {
        try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(java.nio.file.Path.of("db/migration"))) {
            return files.count();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static List<String> shapeOf(TestDatabase reference) {
        try (reference) {
            return Snapshots.schemaShape(reference);
        }
    }

    @Test
    void rollbackWithoutABackupExits2AndChangesNothing() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            platformWithHistory(db);
            List<String> shape = Snapshots.schemaShape(db);
            List<String> host = Snapshots.hostData(db);
            List<String> leads = Snapshots.leadState(db);
            List<String> history = Sql.strings(db, "SELECT version FROM flyway_schema_history ORDER BY installed_rank");

            Cli.Result rollback = rollBack(db, "rollback", "--to", "18");

            assertThat(rollback.exitCode()).isEqualTo(2);
            assertThat(rollback.err()).contains("no backup recorded by `deenroll backup`");
            assertThat(Snapshots.schemaShape(db)).containsExactlyElementsOf(shape);
            assertThat(Snapshots.hostData(db)).containsExactlyElementsOf(host);
            assertThat(Snapshots.leadState(db)).containsExactlyElementsOf(leads);
            assertThat(Sql.strings(db, "SELECT version FROM flyway_schema_history ORDER BY installed_rank"))
                    .containsExactlyElementsOf(history);
        }
    }

    /**
     * A backup older than the last finished run does not protect that run's
     * completions, and tables named like a backup but created by hand (here
     * empty) are no backup at all.
     */
    @Test
    void aBackupOlderThanTheLastRunOrNotRecordedByBackupDoesNotCount() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Fixtures f = new Fixtures(db.db().dsl());
            Scenario s = Scenario.build(f);
            assertThat(Cli.run(db, "backup").exitCode()).isZero();
            f.leads(s.clientA(), s.campaignA1(), 3, 2);
            assertThat(Cli.run(db, "run").exitCode()).isZero();
            db.sql("CREATE TABLE leads_backup_29990101 AS SELECT * FROM leads WHERE false");
            db.sql("CREATE TABLE campaigns_backup_29990101 AS SELECT * FROM campaigns WHERE false");
            List<String> shape = Snapshots.schemaShape(db);

            Cli.Result rollback = rollBack(db, "rollback", "--to", "18");

            assertThat(rollback.exitCode()).isEqualTo(2);
            assertThat(rollback.err()).contains("no backup recorded by `deenroll backup` after the last finished run");
            assertThat(Snapshots.schemaShape(db)).containsExactlyElementsOf(shape);
        }
    }

    @Test
    void withoutYesRollbackPrintsWhatEachScriptDropsWithItsRowsAndChangesNothing() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            platformWithHistory(db);
            assertThat(Cli.run(db, "backup").exitCode()).isZero();
            Operators.pause(db);
            List<String> shape = Snapshots.schemaShape(db);
            List<String> leads = Snapshots.leadState(db);
            long log = Sql.number(db, "SELECT count(*) FROM de_enrollment_lead_log");
            long completed = Sql.number(db, "SELECT count(*) FROM leads WHERE completed_at IS NOT NULL");

            Cli.Result plan = Cli.run(db, "rollback", "--to", "18");

            assertThat(plan.exitCode()).as(plan.err()).isZero();
            assertThat(plan.out()).contains("nothing changed; `--yes` applies it",
                    "19 U19__completion_tracking.sql drops:\n    column: leads.completed_at (" + completed
                            + " value(s) other than its default), leads.campaign_history (",
                    "de_enrollment_lead_log (" + log + " row(s))",
                    "    function: de_enrollment_campaign_counters",
                    "✅ backup " + Sql.today(db),
                    "run history and lead log go with it", "--with-history");
            assertThat(Snapshots.schemaShape(db)).containsExactlyElementsOf(shape);
            assertThat(Snapshots.leadState(db)).containsExactlyElementsOf(leads);
            assertThat(flywayRowsAbove(db, 18)).isEqualTo(migrationFiles());
        }
    }

    @Test
    void rollbackRefusesUnlessPausedAndWhileAnInvocationIsRunning() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            platformWithHistory(db);
            assertThat(Cli.run(db, "backup").exitCode()).isZero();
            List<String> shape = Snapshots.schemaShape(db);

            Cli.Result notPaused = Cli.run(db, "rollback", "--to", "20", "--yes", "--force");
            Operators.pause(db);
            Operators.liveInvocation(db);
            Cli.Result running = Cli.run(db, "rollback", "--to", "20", "--yes", "--force");

            assertThat(notPaused.exitCode()).isEqualTo(2);
            assertThat(notPaused.err()).contains("not paused", "deenroll pause");
            assertThat(running.exitCode()).isEqualTo(2);
            assertThat(running.err()).contains("still running");
            assertThat(Snapshots.schemaShape(db)).containsExactlyElementsOf(shape);
        }
    }

    @Test
    void withHistoryTheBackupKeepsTheRunsAndLeadLogThatTheRollbackDrops() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            platformWithHistory(db);
            List<String> log = Snapshots.table(db, "de_enrollment_lead_log", "id");
            assertThat(Cli.run(db, "backup", "--with-history").exitCode()).isZero();

            Cli.Result rollback = rollBack(db, "rollback", "--to", "20");

            assertThat(rollback.exitCode()).as(rollback.err()).isZero();
            assertThat(rollback.out()).contains("with the run history and lead log").doesNotContain("--with-history");
            assertThat(Sql.relationExists(db, "de_enrollment_lead_log")).isFalse();
            assertThat(Snapshots.table(db, "de_enrollment_lead_log_backup_" + Sql.today(db), "id")).containsExactlyElementsOf(log);
        }
    }

    @Test
    void rollbackTo18WithBackupRemovesTheToolAndKeepsHostData() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            platformWithHistory(db);
            List<String> host = Snapshots.hostData(db);
            assertThat(Cli.run(db, "backup").exitCode()).isZero();

            Cli.Result rollback = rollBack(db, "rollback", "--to", "18");

            assertThat(rollback.exitCode()).as(rollback.err()).isZero();
            // exactly the host schema is left: the same shape as a database before `migrate`
            assertThat(Snapshots.schemaShape(db)).containsExactlyElementsOf(shapeOf(TestPostgres.get().hostOnly()));
            assertThat(Sql.relationExists(db, "de_enrollment_runs")).isFalse();
            assertThat(Sql.relationExists(db, "de_enrollment_lead_log")).isFalse();
            assertThat(Sql.relationExists(db, "de_enrollment_runs_archive")).isFalse();
            assertThat(Sql.columnExists(db, "leads", "completed_at")).isFalse();
            assertThat(Sql.columnExists(db, "campaigns", "active_leads_count")).isFalse();
            assertThat(Snapshots.hostData(db)).containsExactlyElementsOf(host);
            assertThat(flywayRowsAbove(db, 18)).isZero();
        }
    }

    @Test
    void afterRollbackTo18MigrateBringsTheToolBackAndItWorks() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Scenario s = platformWithHistory(db);
            assertThat(Cli.run(db, "backup").exitCode()).isZero();
            assertThat(rollBack(db, "rollback", "--to", "18").exitCode()).isZero();

            Cli.Result migrate = Cli.run(db, "migrate");

            assertThat(migrate.exitCode()).as(migrate.err()).isZero();
            assertThat(Snapshots.schemaShape(db)).containsExactlyElementsOf(shapeOf(TestPostgres.get().migrated()));
            assertThat(Sql.text(db, "SELECT max(version::integer)::text FROM flyway_schema_history"
                    + " WHERE version ~ '^[0-9]+$'")).isEqualTo(String.valueOf(Migrator.REQUIRED_VERSION));
            // leads that finish after the rollback are de-enrolled by the re-migrated tool
            Fixtures f = new Fixtures(db.db().dsl());
            f.leads(s.clientB(), s.campaignB1(), 1, 3);
            f.recount();
            assertThat(f.eligible()).isPositive();

            Cli.Result run = Cli.run(db, "run");
            assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
            assertThat(f.eligible()).isZero();
            assertThat(f.drift()).isZero();
            Cli.Result verify = Cli.run(db, "verify");
            assertThat(verify.exitCode()).as(verify.out()).isZero();
        }
    }

    @Test
    void forceRollsBackWithoutBackupAndSaysSo() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            platformWithHistory(db);
            List<String> host = Snapshots.hostData(db);

            Cli.Result rollback = rollBack(db, "rollback", "--to", "18", "--force");

            assertThat(rollback.exitCode()).as(rollback.err()).isZero();
            assertThat(rollback.out()).containsIgnoringCase("without a backup");
            assertThat(Sql.relationExists(db, "de_enrollment_runs")).isFalse();
            assertThat(Sql.columnExists(db, "leads", "completed_at")).isFalse();
            assertThat(Snapshots.hostData(db)).containsExactlyElementsOf(host);
            assertThat(flywayRowsAbove(db, 18)).isZero();
            assertThat(Cli.run(db, "migrate").exitCode()).isZero();
            assertThat(Cli.run(db, "run").exitCode()).isZero();
            assertThat(Cli.run(db, "verify").exitCode()).isZero();
        }
    }

    @Test
    void rollbackTo20KeepsCompletionAndCampaignModelThenMigrateRestoresTheRest() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Scenario s = platformWithHistory(db);
            List<String> leads = Snapshots.leadState(db);
            List<String> campaigns = Snapshots.campaignState(db);
            assertThat(Cli.run(db, "backup").exitCode()).isZero();

            Cli.Result rollback = rollBack(db, "rollback", "--to", "20");

            assertThat(rollback.exitCode()).as(rollback.err()).isZero();
            assertThat(Sql.relationExists(db, "de_enrollment_runs")).isFalse();
            assertThat(Sql.relationExists(db, "de_enrollment_lead_log")).isFalse();
            assertThat(Sql.relationExists(db, "de_enrollment_runs_archive")).isFalse();
            assertThat(Sql.relationExists(db, "leads_de_enrollment_pending_idx")).isFalse();
            // 0019 and 0020 stay, with their data
            assertThat(Snapshots.leadState(db)).containsExactlyElementsOf(leads);
            assertThat(Snapshots.campaignState(db)).containsExactlyElementsOf(campaigns);
            assertThat(flywayRowsAbove(db, 20)).isZero();
            assertThat(flywayRowsAbove(db, 18)).isEqualTo(2);

            assertThat(Cli.run(db, "migrate").exitCode()).isZero();
            assertThat(Snapshots.schemaShape(db)).containsExactlyElementsOf(shapeOf(TestPostgres.get().migrated()));
            Fixtures f = new Fixtures(db.db().dsl());
            f.leads(s.clientA(), s.campaignA2(), 2, 2);
            f.recount();
            assertThat(Cli.run(db, "run").exitCode()).isZero();
            assertThat(f.eligible()).isZero();
            assertThat(Cli.run(db, "verify").exitCode()).isZero();
        }
    }

    @Test
    void aTargetOutsideTheRollbackScriptsIsAUsageErrorThatNamesTheValidOnes() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            assertThat(Cli.run(db, "backup").exitCode()).isZero();
            for (String target : new String[] {"17", String.valueOf(Migrator.REQUIRED_VERSION)}) {
                Cli.Result rollback = Cli.run(db, "rollback", "--to", target);

                assertThat(rollback.exitCode()).as("--to %s: %s", target, rollback.err()).isEqualTo(2);
                // every version a script leads down to, the newest migration's predecessor included
                assertThat(rollback.err()).contains("expected one of " + rollbackTargets() + ", got " + target);
            }
            assertThat(flywayRowsAbove(db, 18)).as("nothing rolled back").isEqualTo(migrationFiles());
        }
    }

    /**
     * The procedure's order: backup, rollback, migrate, restore. The state the
     * rollback of 0019/0020 dropped (completion, history, campaign flags and
     * counters) comes back from the backup exactly.
     */
    @Test
    void backupRollbackMigrateRestoreGivesBackTheDeEnrollmentState() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Scenario s = platformWithHistory(db);
            db.sql("UPDATE campaigns SET is_active = false, deactivated_at = now() - interval '1 day',"
                    + " auto_discovered = true WHERE id = '" + s.campaignA2() + "'");
            List<String> leads = Snapshots.leadState(db);
            List<String> campaigns = Snapshots.campaignState(db);
            String autoDiscovered = Sql.strings(db, "SELECT id || ' ' || auto_discovered FROM campaigns ORDER BY id").toString();
            assertThat(Cli.run(db, "backup").exitCode()).isZero();
            assertThat(rollBack(db, "rollback", "--to", "18").exitCode()).isZero();
            assertThat(Cli.run(db, "migrate").exitCode()).isZero();
            // the columns are back with the migration's defaults: the state is not what the backup saw
            assertThat(Snapshots.leadState(db)).isNotEqualTo(leads);
            Operators.pause(db);

            Cli.Result restore = Cli.run(db, "restore", "--from", Sql.today(db), "--yes");

            assertThat(restore.exitCode()).as(restore.err()).isZero();
            assertThat(restore.out()).contains("re-created by `migrate` after the backup");
            assertThat(Snapshots.leadState(db)).containsExactlyElementsOf(leads);
            assertThat(Snapshots.campaignState(db)).containsExactlyElementsOf(campaigns);
            assertThat(Sql.strings(db, "SELECT id || ' ' || auto_discovered FROM campaigns ORDER BY id").toString())
                    .isEqualTo(autoDiscovered);
        }
    }
}
