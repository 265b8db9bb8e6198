package deenroll.engine;

import com.fasterxml.jackson.databind.JsonNode;
import deenroll.db.schema.tables.records.CampaignsRecord;
import deenroll.db.schema.tables.records.LeadsRecord;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.UUID;

import static deenroll.db.schema.Tables.DE_ENROLLMENT_RUNS;
import static deenroll.engine.EngineTestKit.campaigns;
import static deenroll.engine.EngineTestKit.counts;
import static deenroll.engine.EngineTestKit.describe;
import static deenroll.engine.EngineTestKit.json;
import static deenroll.engine.EngineTestKit.leads;
import static deenroll.engine.EngineTestKit.logRows;
import static deenroll.engine.EngineTestKit.run;
import static deenroll.engine.EngineTestKit.runRows;
import static org.assertj.core.api.Assertions.assertThat;

/** `run --dry-run` (DESIGN §2): reports what would be de-enrolled and changes nothing. */
class EngineDryRunTest {

    @Test
    void aDryRunChangesNothingAndPredictsWhatTheRealRunDoes() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID acme = f.client("Acme");
            UUID acmeCampaign = f.campaign(acme, 2);
            f.leads(acme, acmeCampaign, 2, 3);
            f.lead(acme, acmeCampaign, 2, true, false);
            f.lead(acme, acmeCampaign, 1);
            UUID globex = f.client("Globex");
            UUID globexCampaign = f.campaign(globex, 1);
            f.lead(globex, globexCampaign, 1, false, true);
            f.lead(globex, globexCampaign, 5, true, true);
            // an inactive client's leads are not part of an all-client run, real or dry
            UUID dormant = f.client("Dormant", false);
            f.leads(dormant, f.campaign(dormant, 1), 1, 2);
            f.recount();
            // a stale run row: a real run would close it; a dry run must not
            db.sql("INSERT INTO de_enrollment_runs (id, invocation_id, client_id, run_at, run_type, status, heartbeat_at,"
                    + " budget_ms) VALUES ('" + UUID.randomUUID() + "', '" + UUID.randomUUID() + "', '" + acme + "',"
                    + " now() - interval '2 hours', 'scheduled', 'running', now() - interval '2 hours', 240000)");
            Map<UUID, LeadsRecord> leadsBefore = leads(dsl);
            Map<UUID, CampaignsRecord> campaignsBefore = campaigns(dsl);
            var runsBefore = runRows(dsl);

            Cli.Result dry = run(db, "--dry-run", "--output", "json");

            assertThat(dry.exitCode()).as(describe(dry)).isZero();
            JsonNode predicted = json(dry);
            assertThat(predicted.get("dryRun").asBoolean()).isTrue();
            assertThat(predicted.get("totals").get("leadsDeEnrolled").asInt()).as("leads a dry run reports").isEqualTo(6);
            assertThat(counts(predicted.get("totals").get("byOutcome"))).containsOnly(
                    Map.entry("completed", 3), Map.entry("booked", 2), Map.entry("opted_out", 1));
            assertThat(leads(dsl)).as("every lead after a dry run").isEqualTo(leadsBefore);
            assertThat(campaigns(dsl)).as("every campaign after a dry run").isEqualTo(campaignsBefore);
            assertThat(runRows(dsl)).as("run rows after a dry run").isEqualTo(runsBefore);
            assertThat(logRows(dsl)).as("lead-log rows after a dry run").isZero();

            Cli.Result real = run(db, "--output", "json");

            assertThat(real.exitCode()).as(describe(real)).isZero();
            JsonNode done = json(real);
            assertThat(done.get("totals").get("leadsDeEnrolled").asInt()).isEqualTo(6);
            assertThat(counts(done.get("totals").get("byOutcome")))
                    .isEqualTo(counts(predicted.get("totals").get("byOutcome")));
            assertThat(dsl.fetchCount(DE_ENROLLMENT_RUNS, DE_ENROLLMENT_RUNS.STATUS.eq("success")))
                    .as("run rows of the real run").isEqualTo(2);
            assertThat(logRows(dsl)).isEqualTo(6);
            assertThat(f.drift()).isZero();
        }
    }

    @Test
    void aDryRunForOneClientCountsThatClientOnly() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID acme = f.client("Acme");
            f.leads(acme, f.campaign(acme, 1), 1, 2);
            UUID globex = f.client("Globex");
            f.leads(globex, f.campaign(globex, 1), 1, 5);
            f.recount();

            Cli.Result dry = run(db, "--dry-run", "--client-id", acme.toString(), "--output", "json");

            assertThat(dry.exitCode()).as(describe(dry)).isZero();
            JsonNode report = json(dry);
            assertThat(report.get("clients")).hasSize(1);
            assertThat(report.get("totals").get("leadsDeEnrolled").asInt()).isEqualTo(2);
            assertThat(runRows(dsl)).isEmpty();
            assertThat(f.eligible()).isEqualTo(7);
        }
    }
}
