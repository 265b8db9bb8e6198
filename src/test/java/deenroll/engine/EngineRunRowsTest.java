package deenroll.engine;

import deenroll.db.schema.tables.records.DeEnrollmentRunsRecord;
import deenroll.db.schema.tables.records.LeadsRecord;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import static deenroll.db.schema.Tables.DE_ENROLLMENT_LEAD_LOG;
import static deenroll.engine.EngineTestKit.campaign;
import static deenroll.engine.EngineTestKit.counts;
import static deenroll.engine.EngineTestKit.describe;
import static deenroll.engine.EngineTestKit.leads;
import static deenroll.engine.EngineTestKit.run;
import static deenroll.engine.EngineTestKit.runRows;
import static org.assertj.core.api.Assertions.assertThat;

/** The run rows (DESIGN §3 de_enrollment_runs, §4): one per client per invocation, with true counts. */
class EngineRunRowsTest {

    @Test
    void eachClientGetsItsOwnRunRowUnderOneInvocation() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID acme = f.client("Acme");
            UUID acmeSpring = f.campaign(acme, 2);
            UUID acmeAutumn = f.campaign(acme, 4);
            f.leads(acme, acmeSpring, 2, 2);
            f.leads(acme, acmeAutumn, 4, 1);
            f.leads(acme, acmeAutumn, 1, 2);
            UUID globex = f.client("Globex");
            UUID globexOnly = f.campaign(globex, 1);
            f.leads(globex, globexOnly, 1, 4);
            f.leads(globex, globexOnly, 0, 3);
            f.recount();

            Cli.Result result = run(db);

            assertThat(result.exitCode()).as(describe(result)).isZero();
            List<DeEnrollmentRunsRecord> runs = runRows(dsl);
            assertThat(runs).extracting(DeEnrollmentRunsRecord::getClientId).containsExactlyInAnyOrder(acme, globex);
            assertThat(runs).extracting(DeEnrollmentRunsRecord::getInvocationId).as("invocation ids").containsOnly(
                    runs.get(0).getInvocationId());
            DeEnrollmentRunsRecord acmeRun = runs.stream().filter(r -> r.getClientId().equals(acme)).findFirst().orElseThrow();
            DeEnrollmentRunsRecord globexRun = runs.stream().filter(r -> r.getClientId().equals(globex)).findFirst().orElseThrow();
            assertThat(acmeRun.getLeadsDeEnrolled()).isEqualTo(3);
            assertThat(globexRun.getLeadsDeEnrolled()).isEqualTo(4);

            // each lead is logged under the run of its own client
            Map<UUID, LeadsRecord> leads = leads(dsl);
            dsl.selectFrom(DE_ENROLLMENT_LEAD_LOG).fetch().forEach(log -> {
                UUID owner = leads.get(log.getLeadId()).getClientId();
                assertThat(log.getClientId()).isEqualTo(owner);
                assertThat(log.getRunId()).isEqualTo(owner.equals(acme) ? acmeRun.getId() : globexRun.getId());
            });

            // counters per campaign: completed = finished leads, active = leads still in the sequence
            assertThat(campaign(dsl, acmeSpring).getCompletedLeadsCount()).isEqualTo(2);
            assertThat(campaign(dsl, acmeSpring).getActiveLeadsCount()).isZero();
            assertThat(campaign(dsl, acmeAutumn).getCompletedLeadsCount()).isEqualTo(1);
            assertThat(campaign(dsl, acmeAutumn).getActiveLeadsCount()).isEqualTo(2);
            assertThat(campaign(dsl, globexOnly).getCompletedLeadsCount()).isEqualTo(4);
            assertThat(campaign(dsl, globexOnly).getActiveLeadsCount()).isEqualTo(3);
            assertThat(f.drift()).isZero();
        }
    }

    @Test
    void twoHundredFiftyLeadsAtBatchSizeOneHundredTakeThreeBatches() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            // spread over two campaigns so batches cross campaign boundaries
            f.leads(client, f.campaign(client, 2), 2, 130);
            f.leads(client, f.campaign(client, 5), 6, 120);
            f.recount();

            Cli.Result result = run(db, "--batch-size", "100");

            assertThat(result.exitCode()).as(describe(result)).isZero();
            DeEnrollmentRunsRecord run = runRows(dsl).get(0);
            assertThat(run.getBatches()).as("batches (100 + 100 + 50)").isEqualTo(3);
            assertThat(run.getLeadsDeEnrolled()).isEqualTo(250);
            assertThat(run.getLeadsEvaluated()).isEqualTo(250);
            assertThat(f.eligible()).isZero();
            assertThat(f.drift()).isZero();
        }
    }

    @Test
    void aScheduledRunRowRecordsItsOutcomeCountsAndTiming() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            UUID campaign = f.campaign(client, 2);
            f.lead(client, campaign, 2, true, false);
            f.lead(client, campaign, 2, false, true);
            f.lead(client, campaign, 3, false, true);
            f.leads(client, campaign, 2, 3);
            f.lead(client, campaign, 1);
            f.recount();

            Cli.Result result = run(db);

            assertThat(result.exitCode()).as(describe(result)).isZero();
            List<DeEnrollmentRunsRecord> runs = runRows(dsl);
            assertThat(runs).hasSize(1);
            DeEnrollmentRunsRecord run = runs.get(0);
            assertThat(run.getClientId()).isEqualTo(client);
            assertThat(run.getRunType()).as("run_type of an all-client run").isEqualTo("scheduled");
            assertThat(run.getStatus()).isEqualTo("success");
            assertThat(run.getLeadsEvaluated()).isEqualTo(6);
            assertThat(run.getLeadsDeEnrolled()).isEqualTo(6);
            assertThat(run.getLeadsSkipped()).isZero();
            assertThat(run.getLeadsFailed()).isZero();
            assertThat(counts(run.getByOutcome())).containsOnly(
                    Map.entry("booked", 1), Map.entry("opted_out", 2), Map.entry("completed", 3));
            assertThat(run.getDurationMs()).as("duration_ms").isNotNull().isNotNegative();
            assertThat(run.getFinishedAt()).as("finished_at").isNotNull().isAfterOrEqualTo(run.getRunAt());
            assertThat(run.getErrorDetails()).isNull();
        }
    }

    @Test
    void aRunForOneClientIsManualAndLeavesTheOthersAlone() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID acme = f.client("Acme");
            f.leads(acme, f.campaign(acme, 1), 1, 2);
            UUID globex = f.client("Globex");
            UUID globexLead = f.lead(globex, f.campaign(globex, 1), 1);
            f.recount();
            LeadsRecord globexBefore = EngineTestKit.lead(dsl, globexLead);

            Cli.Result result = run(db, "--client-id", acme.toString());

            assertThat(result.exitCode()).as(describe(result)).isZero();
            List<DeEnrollmentRunsRecord> runs = runRows(dsl);
            assertThat(runs).hasSize(1);
            assertThat(runs.get(0).getClientId()).isEqualTo(acme);
            assertThat(runs.get(0).getRunType()).as("run_type of a --client-id run").isEqualTo("manual");
            assertThat(runs.get(0).getStatus()).isEqualTo("success");
            assertThat(runs.get(0).getLeadsDeEnrolled()).isEqualTo(2);
            assertThat(EngineTestKit.lead(dsl, globexLead)).isEqualTo(globexBefore);
        }
    }
}
