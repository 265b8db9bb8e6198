package deenroll.db;

import deenroll.support.Query;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.jooq.DSLContext;
import org.jooq.Record;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `deenroll migrate` on the platform's existing database (DESIGN §3): it
 * baselines at 18, applies 19-24, computes the counters by their definition,
 * turns legacy templates into one-message sequences, and — unlike the old 0019 —
 * de-enrolls nobody and invents no content.
 */
@Tag("compat")
class MigrationTest {

    private TestDatabase db;
    private HostData data;
    private String leadsBefore;

    @BeforeEach
    void hostDatabaseWithData() {
        db = TestPostgres.get().hostOnly();
        data = HostData.loadInto(db);
        leadsBefore = hostLeadRows();
    }

    @AfterEach
    void drop() {
        db.close();
    }

    private DSLContext dsl() {
        return db.db().dsl();
    }

    /** The host's own lead columns, as the host application sees them. */
    private String hostLeadRows() {
        return Query.value(dsl(), String.class, "SELECT string_agg(concat_ws('|', id, client_id, campaign_link_id, current_message_position,"
                + " is_active, opted_out, booked, enrolled_at, last_message_at, updated_at), E'\\n' ORDER BY id) FROM leads");
    }

    private Cli.Result migrate() {
        Cli.Result r = Cli.run(db, "migrate");
        assertThat(r.exitCode()).as("migrate failed: %s", r.err()).isZero();
        return r;
    }

    @Test
    void baselinesAt18AndAppliesEveryMigrationAfterIt() {
        migrate();

        List<String> history = dsl().fetch("SELECT version, type, success FROM flyway_schema_history ORDER BY installed_rank")
                .map(r -> r.get(0) + " " + r.get(1) + " " + r.get(2));
        assertThat(history).containsExactlyElementsOf(MigrationFiles.history("BASELINE true", "SQL true"));
        assertThat(MigrationFiles.versions()).last().as("the newest migration is the version this build needs")
                .isEqualTo(Migrator.REQUIRED_VERSION);
        assertThat(Query.value(dsl(), Integer.class, "SELECT de_enrollment_schema_version()")).isEqualTo(Migrator.REQUIRED_VERSION);
    }

    @Test
    void deEnrollsNobody() {
        migrate();

        assertThat(hostLeadRows()).as("no host column of any lead changed").isEqualTo(leadsBefore);
        assertThat(Query.value(dsl(), Integer.class, "SELECT count(*) FROM leads WHERE completed_at IS NOT NULL")).isZero();
        assertThat(Query.value(dsl(), Integer.class, "SELECT count(*) FROM leads WHERE campaign_history IS DISTINCT FROM '[]'::jsonb")).isZero();
        assertThat(Query.value(dsl(), Integer.class, "SELECT count(*) FROM de_enrollment_lead_log")).isZero();
        // the leads past their last message are still there for migrate-stuck-leads, a deliberate step
        assertThat(new Fixtures(dsl()).eligible()).isEqualTo(HostData.ELIGIBLE_AFTER_MIGRATION);
    }

    @Test
    void initialCountersEqualTheirDefinitions() {
        migrate();

        assertThat(new Fixtures(dsl()).drift()).isZero();
        Record three = dsl().fetchOne("SELECT active_leads_count, completed_leads_count, opted_out_count, booked_count,"
                + " is_active FROM campaigns WHERE id = ?", data.threeSteps);
        // active and not opted out: positions 0, 2, 3, 7 and the booked one; opted out: 2; booked: 1
        assertThat(three.get(0, Integer.class)).isEqualTo(5);
        assertThat(three.get(1, Integer.class)).isZero();
        assertThat(three.get(2, Integer.class)).isEqualTo(2);
        assertThat(three.get(3, Integer.class)).isEqualTo(1);
        assertThat(three.get(4, Boolean.class)).isTrue();
        assertThat(Query.value(dsl(), Integer.class, "SELECT active_leads_count FROM campaigns WHERE id = ?",
                data.templateOnly)).isEqualTo(2);
        assertThat(Query.value(dsl(), Integer.class, "SELECT count(*) FROM campaigns WHERE last_enrollment_at IS NULL AND id IN"
                + " (SELECT campaign_link_id FROM leads)"))
                .as("last_enrollment_at set wherever a campaign has leads").isZero();
    }

    @Test
    void legacyTemplatesBecomeOneMessageSequencesWithTheTemplateText() {
        migrate();

        for (var c : List.of(new Object[] {data.templateOnly, HostData.TEMPLATE_ONLY_TEXT},
                new Object[] {data.templateWithEmpty, HostData.TEMPLATE_WITH_EMPTY_TEXT})) {
            Record r = dsl().fetchOne("SELECT jsonb_typeof(messages), jsonb_array_length(messages), messages->0->>'text',"
                    + " message_template FROM campaigns WHERE id = ?", c[0]);
            assertThat(r.get(0, String.class)).isEqualTo("array");
            assertThat(r.get(1, Integer.class)).isEqualTo(1);
            assertThat(r.get(2, String.class)).isEqualTo(c[1]);
            assertThat(r.get(3, String.class)).as("the template itself is kept").isEqualTo(c[1]);
        }
    }

    @Test
    void noContentIsInvented() {
        migrate();

        assertThat(Query.value(dsl(), Boolean.class, "SELECT messages IS NULL FROM campaigns WHERE id = ?", data.neither))
                .as("a campaign with neither template nor messages keeps no sequence").isTrue();
        assertThat(Query.value(dsl(), String.class, "SELECT messages::text FROM campaigns WHERE id = ?", data.templateAndMessages))
                .as("an existing sequence wins over the template")
                .isEqualTo("[{\"step\": 1, \"text\": \"x\"}, {\"step\": 2, \"text\": \"y\"}]");
        assertThat(Query.value(dsl(), String.class, "SELECT messages::text FROM campaigns WHERE id = ?", data.malformed))
                .isEqualTo("{\"steps\": 2}");
    }

    @Test
    void migratingAgainIsANoOp() {
        migrate();
        String campaigns = Query.value(dsl(), String.class, "SELECT string_agg(c::text, E'\\n' ORDER BY id) FROM campaigns c");

        Cli.Result again = migrate();

        assertThat(again.out()).contains("up to date");
        assertThat(Query.value(dsl(), Integer.class, "SELECT count(*) FROM flyway_schema_history"))
                .isEqualTo(MigrationFiles.versions().size() + 1);
        assertThat(Query.value(dsl(), String.class, "SELECT string_agg(c::text, E'\\n' ORDER BY id) FROM campaigns c"))
                .isEqualTo(campaigns);
        assertThat(hostLeadRows()).isEqualTo(leadsBefore);
    }

    @Test
    void migratedDatabaseRunsAndDeEnrollsExactlyTheEligibleLeads() {
        migrate();

        Cli.Result run = Cli.run(db, "run", "--all-clients");

        assertThat(run.exitCode()).as("run: %s", run.err()).isZero();
        // the inactive client's lead is skipped by all-client runs
        assertThat(Query.value(dsl(), Integer.class, "SELECT count(*) FROM leads WHERE completed_at IS NOT NULL"))
                .isEqualTo(HostData.ELIGIBLE_AFTER_MIGRATION - 1);
        assertThat(new Fixtures(dsl()).drift()).isZero();
    }

    @Test
    void migrateRefusesAnEmptyDatabaseNamingTheMissingHostTables() {
        try (TestDatabase empty = TestPostgres.get().empty()) {
            Cli.Result r = Cli.run(empty, "migrate");

            assertThat(r.exitCode()).isEqualTo(4);
            assertThat(r.err()).contains("clients").contains("campaigns").contains("leads");
            assertThat(Query.value(empty.db().dsl(), Integer.class, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).as("nothing created, not even Flyway's history").isZero();
        }
    }

    @Test
    void migrateRefusesADatabaseMissingOneHostTable() {
        try (TestDatabase partial = TestPostgres.get().empty()) {
            partial.sql("CREATE TABLE clients (id uuid PRIMARY KEY, name text NOT NULL)");

            Cli.Result r = Cli.run(partial, "migrate");

            assertThat(r.exitCode()).isEqualTo(4);
            assertThat(r.err()).contains("campaigns").contains("leads").doesNotContain("clients,");
        }
    }
    /**
     * A host transaction holds leads (an open transaction that read it):
     * V19's ALTER TABLE would queue behind it and block every later query on
     * leads. With the lock timeout it gives up, leaves nothing half-applied,
     * and the next `migrate`, after the transaction, applies everything.
     */
    @Test
    @org.junit.jupiter.api.Timeout(120) // without the lock timeout, migrate waits for the host forever
    void aMigrationBehindALongTransactionTimesOutCleanlyAndSucceedsWhenRunAgain() throws Exception {
        java.util.concurrent.CountDownLatch holding = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CompletableFuture<Void> host = java.util.concurrent.CompletableFuture.runAsync(
                () -> dsl().transaction(cfg -> {
                    cfg.dsl().fetch("SELECT id FROM leads LIMIT 1");
                    holding.countDown();
                    release.await();
                }));
        assertThat(holding.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        long started = System.nanoTime();

        Cli.Result blocked = Cli.run(db, "migrate", "--lock-timeout", "1000");

        long waitedMs = (System.nanoTime() - started) / 1_000_000;
        release.countDown();
        host.get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(blocked.exitCode()).as(blocked.out() + blocked.err()).isEqualTo(1);
        assertThat(blocked.err()).contains("waited longer than --lock-timeout (1000 ms)", "nothing of it is applied",
                "Run `deenroll migrate` again");
        assertThat(waitedMs).as("gave up after the lock timeout, not the statement timeout").isLessThan(30_000);
        assertThat(Query.value(dsl(), Boolean.class, "SELECT EXISTS (SELECT FROM information_schema.columns"
                + " WHERE table_name = 'leads' AND column_name = 'completed_at')")).isFalse();
        assertThat(Query.value(dsl(), Long.class, "SELECT count(*) FROM flyway_schema_history WHERE version <> '18'"))
                .isZero();
        assertThat(hostLeadRows()).isEqualTo(leadsBefore);

        migrate();

        assertThat(Query.value(dsl(), Integer.class, "SELECT de_enrollment_schema_version()")).isEqualTo(Migrator.REQUIRED_VERSION);
    }
}
