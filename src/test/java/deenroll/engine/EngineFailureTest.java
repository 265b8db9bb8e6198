package deenroll.engine;

import com.fasterxml.jackson.databind.JsonNode;
import deenroll.db.schema.tables.records.DeEnrollmentLeadLogRecord;
import deenroll.db.schema.tables.records.DeEnrollmentRunsRecord;
import deenroll.db.schema.tables.records.LeadsRecord;
import deenroll.support.AlertReceiver;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static deenroll.db.schema.Tables.CLIENTS;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_LEAD_LOG;
import static deenroll.engine.EngineTestKit.describe;
import static deenroll.engine.EngineTestKit.json;
import static deenroll.engine.EngineTestKit.lead;
import static deenroll.engine.EngineTestKit.logRows;
import static deenroll.engine.EngineTestKit.run;
import static deenroll.engine.EngineTestKit.runRows;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Failures (DESIGN §4): a client whose run fails is recorded as failed and
 * alerted while the next client still runs; a lead that makes its batch fail
 * (a "poison row") is logged as an error and does not hold back the others.
 */
@Tag("compat")
class EngineFailureTest {

    // Clients of a never-run database are taken in id order, so these ids put the failing one first.
    private static final UUID FAILING = UUID.fromString("00000000-0000-0000-0000-00000000000a");
    private static final UUID HEALTHY = UUID.fromString("00000000-0000-0000-0000-00000000000b");

    @Test
    void aFailingClientIsRecordedAndAlertedAndTheNextClientStillRuns() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated(); AlertReceiver alerts = new AlertReceiver()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            client(dsl, FAILING, "Failing Co");
            client(dsl, HEALTHY, "Healthy Co");
            UUID failingLead = f.lead(FAILING, f.campaign(FAILING, 2), 2);
            List<UUID> healthyLeads = new ArrayList<>();
            UUID healthyCampaign = f.campaign(HEALTHY, 2);
            for (int i = 0; i < 3; i++) {
                healthyLeads.add(f.lead(HEALTHY, healthyCampaign, 2));
            }
            f.recount();
            // Moving the failing client's counters raises query_canceled: process_de_enrollment_batch
            // re-raises it (no lead-by-lead isolation) and the engine does not retry it, so the
            // whole run of that client fails. Created after recount(), which updates campaigns too.
            db.sql("CREATE FUNCTION test_cancel_counters() RETURNS trigger LANGUAGE plpgsql AS $$"
                    + " BEGIN RAISE EXCEPTION 'test: counters of campaign % cancelled', NEW.id"
                    + " USING ERRCODE = 'query_canceled'; END $$;"
                    + " CREATE TRIGGER test_cancel_counters AFTER UPDATE ON campaigns FOR EACH ROW"
                    + " WHEN (NEW.client_id = '" + FAILING + "') EXECUTE FUNCTION test_cancel_counters();");
            LeadsRecord failingBefore = lead(dsl, failingLead);

            Cli.Result result = run(db, Map.of("DE_ENROLLMENT_ALERT_WEBHOOK", alerts.url()), "--output", "json");

            assertThat(result.exitCode()).as("exit code when a client failed; " + describe(result)).isEqualTo(1);
            JsonNode clients = json(result).get("clients");
            assertThat(clients).hasSize(2);
            assertThat(clients.get(0).get("clientId").asText()).isEqualTo(FAILING.toString());
            assertThat(clients.get(0).get("status").asText()).isEqualTo("failed");
            assertThat(clients.get(1).get("clientId").asText()).as("the client after the failed one").isEqualTo(HEALTHY.toString());
            assertThat(clients.get(1).get("status").asText()).isEqualTo("success");

            DeEnrollmentRunsRecord failed = runRows(dsl, FAILING).get(0);
            assertThat(failed.getStatus()).isEqualTo("failed");
            assertThat(failed.getErrorDetails()).contains("counters of campaign").contains("57014");
            assertThat(failed.getFinishedAt()).isNotNull();
            assertThat(failed.getDurationMs()).isNotNull();
            assertThat(failed.getLeadsDeEnrolled()).isZero();
            // the failed batch was rolled back as a whole
            assertThat(lead(dsl, failingLead)).isEqualTo(failingBefore);
            assertThat(logRows(dsl, failingLead, "de_enrolled")).isZero();

            DeEnrollmentRunsRecord ok = runRows(dsl, HEALTHY).get(0);
            assertThat(ok.getStatus()).isEqualTo("success");
            assertThat(ok.getLeadsDeEnrolled()).isEqualTo(3);
            assertThat(ok.getInvocationId()).isEqualTo(failed.getInvocationId());
            for (UUID id : healthyLeads) {
                assertThat(lead(dsl, id).getIsActive()).as("healthy lead %s active", id).isFalse();
            }
            assertThat(f.drift()).isZero();

            // the alert reached the webhook, naming the client and the error
            List<JsonNode> failures = alerts.bodies().stream().map(EngineTestKit::json)
                    .filter(a -> a.get("message").asText().contains("Failing Co")).toList();
            assertThat(failures).as("alerts about the failing client, of %s", alerts.bodies()).hasSize(1);
            assertThat(failures.get(0).get("severity").asText()).isEqualTo("critical");
            assertThat(failures.get(0).get("details").get("clientId").asText()).isEqualTo(FAILING.toString());
            assertThat(failures.get(0).get("details").get("error").asText()).contains("counters of campaign");
            // the webhook's token is a secret (DESIGN §2): not in the output, the run record or the alert
            assertThat(result.out() + result.err() + failed.getErrorDetails() + alerts.bodies())
                    .doesNotContain("secret-token-123");
        }
    }

    @Test
    void aPoisonLeadIsLoggedAsAnErrorAndTheRestOfItsBatchIsDeEnrolled() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated(); AlertReceiver alerts = new AlertReceiver()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            UUID campaign = f.campaign(client, 2);
            List<UUID> good = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                good.add(f.lead(client, campaign, 2));
            }
            UUID poison = f.lead(client, campaign, 2);
            f.recount();
            // a host-app trigger that refuses to let this one lead be changed
            db.sql("CREATE FUNCTION test_refuse_lead() RETURNS trigger LANGUAGE plpgsql AS $$"
                    + " BEGIN RAISE EXCEPTION 'test: lead % is locked by the CRM', OLD.id; END $$;"
                    + " CREATE TRIGGER test_refuse_lead BEFORE UPDATE ON leads FOR EACH ROW"
                    + " WHEN (OLD.id = '" + poison + "') EXECUTE FUNCTION test_refuse_lead();");
            LeadsRecord poisonBefore = lead(dsl, poison);

            Cli.Result result = run(db, Map.of("DE_ENROLLMENT_ALERT_WEBHOOK", alerts.url()), "--batch-size", "100");

            assertThat(result.exitCode()).as(describe(result)).isZero();
            DeEnrollmentRunsRecord run = runRows(dsl).get(0);
            assertThat(run.getStatus()).isEqualTo("success");
            assertThat(run.getBatches()).as("all five leads were in one batch").isEqualTo(1);
            assertThat(run.getLeadsDeEnrolled()).isEqualTo(4);
            assertThat(run.getLeadsFailed()).isEqualTo(1);
            assertThat(run.getErrorDetails()).as("error_details of a run with a failed lead").contains("1 lead(s) failed");
            for (UUID id : good) {
                assertThat(lead(dsl, id).getIsActive()).as("lead %s, batched with the poison lead", id).isFalse();
                assertThat(logRows(dsl, id, "de_enrolled")).isEqualTo(1);
            }
            assertThat(lead(dsl, poison)).as("the poison lead, unchanged").isEqualTo(poisonBefore);
            List<DeEnrollmentLeadLogRecord> log = dsl.selectFrom(DE_ENROLLMENT_LEAD_LOG)
                    .where(DE_ENROLLMENT_LEAD_LOG.LEAD_ID.eq(poison)).fetch();
            assertThat(log).hasSize(1);
            assertThat(log.get(0).getAction()).isEqualTo("error");
            assertThat(log.get(0).getRunId()).isEqualTo(run.getId());
            assertThat(log.get(0).getErrorMessage()).contains("is locked by the CRM");
            assertThat(f.drift()).isZero();
            assertThat(alerts.bodies()).as("alerts").anySatisfy(body -> {
                JsonNode alert = json(body);
                assertThat(alert.get("severity").asText()).isEqualTo("warning");
                assertThat(alert.get("details").get("leadsFailed").asInt()).isEqualTo(1);
            });
        }
    }

    @Test
    void poisonLeadsAreTriedOncePerRunSoTheRunEndsAndAClientWhoseEveryLeadFailedHasFailed() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            client(dsl, FAILING, "Locked Co");
            client(dsl, HEALTHY, "Healthy Co");
            List<UUID> poisoned = new ArrayList<>();
            UUID lockedCampaign = f.campaign(FAILING, 1);
            for (int i = 0; i < 3; i++) {
                poisoned.add(f.lead(FAILING, lockedCampaign, 1));
            }
            UUID healthyCampaign = f.campaign(HEALTHY, 1);
            UUID healthy1 = f.lead(HEALTHY, healthyCampaign, 1);
            UUID healthy2 = f.lead(HEALTHY, healthyCampaign, 1);
            f.recount();
            // every lead of one client refuses to be updated
            db.sql("CREATE FUNCTION test_refuse_client() RETURNS trigger LANGUAGE plpgsql AS $$"
                    + " BEGIN RAISE EXCEPTION 'test: client frozen'; END $$;"
                    + " CREATE TRIGGER test_refuse_client BEFORE UPDATE ON leads FOR EACH ROW"
                    + " WHEN (OLD.client_id = '" + FAILING + "') EXECUTE FUNCTION test_refuse_client();");

            // batch size 1: a poison lead fills a whole batch; were it picked again, the run would
            // never see a short batch and would only stop at the budget, as partial
            Cli.Result result = run(db, "--batch-size", "1", "--max-runtime", "60000");

            // a client that de-enrolled nothing because every lead it tried failed has failed (0028), and says why
            assertThat(result.exitCode()).as(describe(result)).isEqualTo(1);
            DeEnrollmentRunsRecord locked = runRows(dsl, FAILING).get(0);
            assertThat(locked.getStatus()).isEqualTo("failed");
            assertThat(locked.getErrorDetails()).startsWith("every lead it tried failed: 3 lead(s) left enrolled,"
                    + " none de-enrolled; first error: P0001: test: client frozen");
            assertThat(result.out() + result.err()).contains("Locked Co");
            assertThat(locked.getLeadsFailed()).isEqualTo(3);
            assertThat(locked.getLeadsEvaluated()).as("each poison lead evaluated once").isEqualTo(3);
            assertThat(locked.getLeadsDeEnrolled()).isZero();
            for (UUID id : poisoned) {
                assertThat(logRows(dsl, id, "error")).as("error rows of poison lead %s", id).isEqualTo(1);
                assertThat(lead(dsl, id).getIsActive()).isTrue();
            }
            DeEnrollmentRunsRecord healthy = runRows(dsl, HEALTHY).get(0);
            assertThat(healthy.getStatus()).isEqualTo("success");
            assertThat(healthy.getLeadsDeEnrolled()).isEqualTo(2);
            assertThat(lead(dsl, healthy1).getIsActive()).isFalse();
            assertThat(lead(dsl, healthy2).getIsActive()).isFalse();
            assertThat(f.drift()).isZero();
        }
    }

    private static void client(DSLContext dsl, UUID id, String name) {
        dsl.insertInto(CLIENTS).set(CLIENTS.ID, id).set(CLIENTS.NAME, name).set(CLIENTS.IS_ACTIVE, true)
                .set(CLIENTS.CREATED_AT, Fixtures.LONG_AGO).execute();
    }
}
