package deenroll.engine;

import deenroll.support.AlertReceiver;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.jooq.DSLContext;
import org.jooq.JSONB;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

import static deenroll.db.schema.Tables.CAMPAIGNS;
import static deenroll.db.schema.Tables.LEADS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rows of docs/reliability.md's bad-input catalogue that other tests do not
 * already cover: odd host data, a non-UTC server, and restricted database users.
 */
@Tag("compat")
class BadInputCatalogueTest {

    @Test
    void aLeadInACampaignOfAnotherClientIsDeEnrolledOnceInTheCampaignOwnersRun() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID owner = f.client("Owner");
            UUID other = f.client("Other");
            UUID campaign = f.campaign(owner, 2);
            UUID lead = f.lead(other, campaign, 2);
            f.recount();

            Cli.Result result = Cli.run(db, "run");

            assertThat(result.exitCode()).as(result.err()).isZero();
            assertThat(dsl.fetchValue(DSL.field("(SELECT count(*) FROM de_enrollment_lead_log g JOIN de_enrollment_runs r"
                    + " ON r.id = g.run_id WHERE g.lead_id = {0} AND r.client_id = {1})", Integer.class, lead, owner)))
                    .as("one de_enrolled row, in the owner's run").isEqualTo(1);
            assertThat(dsl.fetchValue(DSL.field("(SELECT client_id FROM de_enrollment_lead_log WHERE lead_id = {0})",
                    UUID.class, lead))).as("the log keeps the lead's own client").isEqualTo(other);
            assertThat(f.drift()).isZero();
        }
    }

    @Test
    void aHistoryThatIsNotAnArrayIsKeptAndTheEntryAppended() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            UUID campaign = f.campaign(client, 1);
            Map<String, String> odd = Map.of("{\"legacy\": true}", "object", "\"free text\"", "string", "null", "JSON null", "42", "number");
            Map<UUID, String> leads = new java.util.HashMap<>();
            odd.forEach((json, what) -> {
                UUID id = f.lead(client, campaign, 1);
                dsl.update(LEADS).set(LEADS.CAMPAIGN_HISTORY, JSONB.valueOf(json)).where(LEADS.ID.eq(id)).execute();
                leads.put(id, json);
            });
            f.recount();

            assertThat(Cli.run(db, "run").exitCode()).isZero();

            leads.forEach((id, json) -> {
                String history = dsl.fetchValue(DSL.field("(SELECT campaign_history::text FROM leads WHERE id = {0})", String.class, id));
                assertThat(dsl.fetchValue(DSL.field("(SELECT jsonb_typeof(campaign_history) FROM leads WHERE id = {0})", String.class, id)))
                        .as(odd.get(json)).isEqualTo("array");
                assertThat(dsl.fetchValue(DSL.field("(SELECT campaign_history -> 0 = {1}::jsonb FROM leads WHERE id = {0})",
                        Boolean.class, id, json))).as("the old %s is kept as the first element: %s", odd.get(json), history).isTrue();
                assertThat(dsl.fetchValue(DSL.field("(SELECT campaign_history -> 1 ->> 'outcome' FROM leads WHERE id = {0})",
                        String.class, id))).as(history).isEqualTo("completed");
            });
        }
    }

    @Test
    void aHugeHistoryIsKeptWhole() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            UUID lead = f.lead(client, f.campaign(client, 1), 1);
            dsl.execute("UPDATE leads SET campaign_history = (SELECT jsonb_agg(jsonb_build_object('campaignId', g, 'note',"
                    + " repeat('x', 200))) FROM generate_series(1, 20000) g) WHERE id = {0}", DSL.val(lead));
            f.recount();

            assertThat(Cli.run(db, "run").exitCode()).isZero();

            assertThat(dsl.fetchValue(DSL.field("(SELECT jsonb_array_length(campaign_history) FROM leads WHERE id = {0})",
                    Integer.class, lead))).isEqualTo(20_001);
        }
    }

    @Test
    void campaignNamesWithQuotesEmojiAndBackslashesArriveIntact() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("O'Brien \"Dental\" \\ 🦷");
            UUID campaign = f.campaign(client, 1);
            String name = "Spring '26 \"promo\" \\n not a newline 🎉 — ünïcode";
            dsl.update(CAMPAIGNS).set(CAMPAIGNS.NAME, name).where(CAMPAIGNS.ID.eq(campaign)).execute();
            UUID lead = f.lead(client, campaign, 1);
            f.recount();

            Cli.Result result = Cli.run(db, "run", "--output", "json");

            assertThat(result.exitCode()).as(result.err()).isZero();
            assertThat(dsl.fetchValue(DSL.field("(SELECT campaign_history -> -1 ->> 'campaignName' FROM leads WHERE id = {0})",
                    String.class, lead))).isEqualTo(name);
            assertThat(result.out()).contains("O'Brien \\\"Dental\\\" \\\\ 🦷");
        }
    }

    @Test
    void aServerInAnotherTimeZoneGetsTheSameResults() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            db.sql("ALTER DATABASE " + db.name() + " SET timezone TO 'Pacific/Kiritimati'");
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            UUID lead = f.lead(client, f.campaign(client, 1), 1);
            f.recount();

            assertThat(Cli.run(db, "run").exitCode()).isZero();
            Cli.Result health = Cli.run(db, "health-check", "--output", "json");

            // completed "now", whatever the session's zone: within a minute of the server's clock
            assertThat(dsl.fetchValue(DSL.field("(SELECT abs(extract(epoch FROM now() - completed_at)) < 60 FROM leads WHERE id = {0})",
                    Boolean.class, lead))).isTrue();
            assertThat(dsl.fetchValue(DSL.field("(SELECT (campaign_history -> -1 ->> 'completedAt')::timestamptz = completed_at"
                    + " FROM leads WHERE id = {0})", Boolean.class, lead))).isTrue();
            assertThat(health.exitCode()).as(health.out()).isZero();
        }
    }

    @Test
    void theLeastPrivilegedWorkerRoleCanRunAndHealthCheckAndNothingMore() throws IOException {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            db.sql(Files.readString(Path.of("db/roles/deenroll_worker.sql")));
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            f.leads(client, f.campaign(client, 2), 2, 5);
            f.recount();
            String worker = db.jdbcUrl().replace("user=postgres", "user=deenroll_worker");

            // no run yet: CRITICAL, alerted, and the alert's de-duplication state written by the worker
            try (AlertReceiver alerts = new AlertReceiver()) {
                Cli.Result first = Cli.run(Map.of("DATABASE_URL", worker, "DE_ENROLLMENT_ALERT_WEBHOOK", alerts.url()),
                        "health-check");
                assertThat(first.exitCode()).as(first.out() + first.err()).isEqualTo(2);
                assertThat(alerts.bodies()).hasSize(1);
                assertThat(dsl.fetchCount(DSL.table("de_enrollment_alert_state"))).isEqualTo(1);
            }
            Cli.Result run = Cli.run(Map.of("DATABASE_URL", worker), "run");
            Cli.Result health = Cli.run(Map.of("DATABASE_URL", worker), "health-check");
            Cli.Result reconcile = Cli.run(Map.of("DATABASE_URL", worker), "reconcile-stats");

            assertThat(run.exitCode()).as(run.err()).isZero();
            assertThat(f.eligible()).isZero();
            assertThat(f.drift()).isZero();
            assertThat(health.exitCode()).as(health.out()).isZero();
            assertThat(reconcile.exitCode()).as("rewriting counters wholesale is not the worker's job").isEqualTo(1);
            assertThat(reconcile.err()).contains("permission denied");
        }
    }

    @Test
    void aReadOnlyUserIsRefusedWithAClearLineAndNothingChanges() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            db.sql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'deenroll_readonly') THEN"
                    + " CREATE ROLE deenroll_readonly LOGIN; END IF; END $$;"
                    + " GRANT SELECT ON ALL TABLES IN SCHEMA public TO deenroll_readonly;");
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            f.leads(client, f.campaign(client, 2), 2, 3);
            f.recount();
            String readOnly = db.jdbcUrl().replace("user=postgres", "user=deenroll_readonly");

            Cli.Result run = Cli.run(Map.of("DATABASE_URL", readOnly), "run");

            assertThat(run.exitCode()).as("the job could not do its work").isEqualTo(1);
            assertThat(run.out() + run.err()).contains("permission denied");
            assertThat(f.eligible()).isEqualTo(3);
            assertThat(dsl.fetchCount(DSL.table("de_enrollment_runs"))).isZero();
        }
    }
}
