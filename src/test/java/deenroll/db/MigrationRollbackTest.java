package deenroll.db;

import deenroll.support.Query;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.jooq.DSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rollback scripts (db/rollback, newest first down to U19) on a database the tool has
 * worked on: they remove every object of the tool and no host row, and
 * `migrate` can bring the tool back afterwards.
 */
@Tag("compat")
class MigrationRollbackTest {

    private TestDatabase db;
    private String hostRowsBefore;
    private String hostCountsBefore;

    @BeforeEach
    void migratedDatabaseTheToolHasWorkedOn() {
        db = TestPostgres.get().migrated();
        Fixtures f = new Fixtures(dsl());
        UUID acme = f.client("Acme");
        UUID campaign = f.campaign(acme, 2);
        f.leads(acme, campaign, 2, 5);
        f.leads(acme, campaign, 1, 3);
        f.lead(acme, campaign, 2, true, false);
        UUID beta = f.client("Beta");
        f.leads(beta, f.campaign(beta, 1), 1, 2);
        f.recount();
        Cli.Result run = Cli.run(db, "run");
        assertThat(run.exitCode()).as("run: %s", run.err()).isZero();
        assertThat(Query.value(dsl(), Integer.class, "SELECT count(*) FROM de_enrollment_runs")).isPositive();
        hostCountsBefore = hostCounts();
        hostRowsBefore = hostRows();
    }

    @AfterEach
    void drop() {
        db.close();
    }

    private DSLContext dsl() {
        return db.db().dsl();
    }

    private String hostCounts() {
        return Query.value(dsl(), String.class, "SELECT (SELECT count(*) FROM clients) || '/' || (SELECT count(*) FROM campaigns)"
                + " || '/' || (SELECT count(*) FROM leads)");
    }

    /** The host's own columns of every host row (the tool's columns are gone after the rollback). */
    private String hostRows() {
        return Query.value(dsl(), String.class, "SELECT (SELECT string_agg(concat_ws('|', id, name, is_active), ',' ORDER BY id) FROM clients)"
                + " || (SELECT string_agg(concat_ws('|', id, client_id, name, message_template, messages), ',' ORDER BY id) FROM campaigns)"
                + " || (SELECT string_agg(concat_ws('|', id, campaign_link_id, current_message_position, is_active, opted_out, booked),"
                + " ',' ORDER BY id) FROM leads)");
    }

    private void rollBackAll() {
        List<Integer> newestFirst = new ArrayList<>(MigrationFiles.versions());
        Collections.reverse(newestFirst);
        newestFirst.forEach(version -> db.sql(MigrationFiles.rollback(version)));
    }

    private boolean exists(String sql) {
        return Query.value(dsl(), Boolean.class, sql);
    }

    @Test
    void rollbacksDropTheToolsObjectsAndKeepEveryHostRow() {
        rollBackAll();

        assertThat(exists("SELECT to_regclass('de_enrollment_runs') IS NULL")).isTrue();
        assertThat(exists("SELECT to_regclass('de_enrollment_alert_state') IS NULL")).isTrue();
        assertThat(exists("SELECT to_regclass('de_enrollment_lead_log') IS NULL")).isTrue();
        assertThat(exists("SELECT to_regclass('de_enrollment_health') IS NULL")).isTrue();
        assertThat(exists("SELECT to_regclass('de_enrollment_eligible_leads') IS NULL")).isTrue();
        assertThat(exists("SELECT to_regclass('leads_de_enrollment_pending_idx') IS NULL")).isTrue();
        assertThat(dsl().fetch("SELECT column_name FROM information_schema.columns WHERE table_name = 'leads'")
                .getValues(0, String.class)).doesNotContain("completed_at", "campaign_history");
        assertThat(dsl().fetch("SELECT column_name FROM information_schema.columns WHERE table_name = 'campaigns'")
                .getValues(0, String.class)).doesNotContain("is_active", "active_leads_count", "completed_leads_count",
                "opted_out_count", "booked_count", "deactivated_at", "last_enrollment_at", "auto_discovered");
        assertThat(dsl().fetch("SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace")
                .getValues(0, String.class)).as("no function of the tool is left").isEmpty();
        assertThat(hostCounts()).isEqualTo(hostCountsBefore);
        assertThat(hostRows()).as("host rows unchanged; de-enrolled leads stay inactive").isEqualTo(hostRowsBefore);
    }

    @Test
    void runAfterRollbackSaysToMigrate() {
        rollBackAll();

        Cli.Result r = Cli.run(db, "run");

        assertThat(r.exitCode()).isEqualTo(4);
        assertThat(r.err()).contains("deenroll migrate");
    }

    @Test
    void migrateWorksAgainAfterRollbackOnceTheHistoryRowsAreRemoved() {
        rollBackAll();
        db.sql("DELETE FROM flyway_schema_history WHERE version IS NOT NULL AND version::numeric > 18");

        Cli.Result r = Cli.run(db, "migrate");

        assertThat(r.exitCode()).as("migrate: %s", r.err()).isZero();
        assertMigratedAgain();
    }

    @Test
    void migrateWorksAgainAfterRollbackWhenTheHistoryTableIsDropped() {
        rollBackAll();
        db.sql("DROP TABLE flyway_schema_history");

        Cli.Result r = Cli.run(db, "migrate");

        assertThat(r.exitCode()).as("migrate: %s", r.err()).isZero();
        assertThat(dsl().fetch("SELECT version || ' ' || type FROM flyway_schema_history ORDER BY installed_rank")
                .getValues(0, String.class)).containsExactlyElementsOf(MigrationFiles.history("BASELINE", "SQL"));
        assertMigratedAgain();
    }

    private void assertMigratedAgain() {
        assertThat(Query.value(dsl(), Integer.class, "SELECT de_enrollment_schema_version()")).isEqualTo(Migrator.REQUIRED_VERSION);
        assertThat(hostCounts()).isEqualTo(hostCountsBefore);
        assertThat(hostRows()).isEqualTo(hostRowsBefore);
        assertThat(new Fixtures(dsl()).drift()).isZero();
        Cli.Result run = Cli.run(db, "run");
        assertThat(run.exitCode()).as("run after re-migration: %s", run.err()).isZero();
    }
}
