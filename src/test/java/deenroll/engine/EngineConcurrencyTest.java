package deenroll.engine;

import deenroll.alert.AlertSink;
import deenroll.db.Database;
import deenroll.db.schema.tables.records.DeEnrollmentRunsRecord;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static deenroll.db.schema.Tables.DE_ENROLLMENT_LEAD_LOG;
import static deenroll.db.schema.Tables.LEADS;
import static deenroll.engine.EngineTestKit.describe;
import static deenroll.engine.EngineTestKit.leadsLoggedTwice;
import static deenroll.engine.EngineTestKit.run;
import static deenroll.engine.EngineTestKit.runRows;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * DESIGN §4 invariants 1 and 2 under concurrency: several copies of the job on
 * the same data (SKIP LOCKED hands each lead to one of them) de-enroll every
 * eligible lead exactly once and keep the counters exact.
 */
@Tag("compat")
class EngineConcurrencyTest {

    @Test
    void twoCommandLineRunnersAtOnceProcessNoLeadTwice() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            for (int c = 0; c < 3; c++) {
                UUID client = f.client("Client " + c);
                f.leads(client, f.campaign(client, 2), 2, 150);
                f.leads(client, f.campaign(client, 3), 4, 150);
                f.leads(client, f.campaign(client, 3), 1, 10); // still in the sequence
            }
            f.recount();
            List<UUID> eligible = eligibleLeadIds(dsl);
            assertThat(eligible).hasSize(900);

            List<Cli.Result> results = together(2, () -> run(db, "--batch-size", "7"));

            for (Cli.Result r : results) {
                assertThat(r.exitCode()).as(describe(r)).isZero();
            }
            assertEachDeEnrolledExactlyOnce(dsl, eligible);
            List<DeEnrollmentRunsRecord> runs = runRows(dsl);
            assertThat(runs).extracting(DeEnrollmentRunsRecord::getStatus).containsOnly("success");
            assertThat(runs.stream().mapToInt(DeEnrollmentRunsRecord::getLeadsDeEnrolled).sum())
                    .as("leads_de_enrolled over both invocations' run rows").isEqualTo(900);
            assertThat(runs).as("one run row per client per invocation").hasSize(6);
            assertThat(runs.stream().map(DeEnrollmentRunsRecord::getInvocationId).distinct()).as("invocations").hasSize(2);
            assertThat(dsl.fetch("SELECT status, stop_reason, position, cardinality(client_ids) FROM de_enrollment_invocations")
                    .formatCSV(false)).as("both invocations' rows")
                    .isEqualTo("finished,done,4,3\nfinished,done,4,3\n");
            assertThat(f.eligible()).isZero();
            assertThat(f.drift()).isZero();
        }
    }

    @Test
    void fourEnginesOnOneClientProcessNoLeadTwice() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            for (int c = 0; c < 3; c++) {
                UUID campaign = f.campaign(client, 1 + c);
                f.leads(client, campaign, 1 + c, 200);
                f.lead(client, campaign, c, true, true);
            }
            f.recount();
            List<UUID> eligible = eligibleLeadIds(dsl);
            assertThat(eligible).hasSize(600);
            RunRequest request = new RunRequest(Optional.of(client), RunType.MANUAL, 5, Duration.ofMinutes(2),
                    Duration.ofSeconds(90), false, false);

            // each engine on its own pool, as separate processes would be
            List<Invocation> invocations = together(4, () -> {
                try (Database own = Database.open(db.target(), Duration.ofSeconds(10), Duration.ofMinutes(5))) {
                    Engine engine = Engine.on(own, AlertSink.NONE, Clock.systemUTC(), new StopSignal());
                    return engine.run(request);
                }
            });

            for (Invocation inv : invocations) {
                assertThat(inv.status()).as("status of invocation %s", inv).isEqualTo(InvocationStatus.SUCCESS);
                assertThat(inv.stopReason()).isEqualTo(StopReason.DONE);
                assertThat(inv.clients()).as("runs of invocation %s", inv).singleElement()
                        .satisfies(c -> assertThat(c.clientId()).isEqualTo(client))
                        .satisfies(c -> assertThat(c.status()).isEqualTo(RunStatus.SUCCESS));
            }
            assertThat(invocations.stream().mapToInt(i -> i.totals().deEnrolled()).sum())
                    .as("leads de-enrolled by the four engines together").isEqualTo(600);
            assertEachDeEnrolledExactlyOnce(dsl, eligible);
            assertThat(f.eligible()).isZero();
            assertThat(f.drift()).isZero();
        }
    }

    /**
     * 0026: a client another live invocation is working on goes to the end of
     * this invocation's list, so runners started together take different
     * clients; it is still run, and the report lists the clients in the order
     * they were done. The other invocation is alive (heartbeat within its
     * lease), so its run is neither closed as abandoned nor touched.
     */
    @Test
    void aClientAnotherInvocationIsWorkingOnIsDoneLastAndReportedSo() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            List<UUID> clients = new ArrayList<>();
            for (String name : List.of("Acme", "Beta", "Core")) {
                UUID client = f.client(name);
                f.leads(client, f.campaign(client, 1), 1, 4);
                clients.add(client);
            }
            f.recount();
            // least recently run first would be Beta, Acme, Core; Beta's run of another invocation is still going
            db.sql("INSERT INTO de_enrollment_runs (id, invocation_id, client_id, run_type, status, budget_ms, run_at,"
                    + " heartbeat_at, finished_at) VALUES"
                    + " ('" + UUID.randomUUID() + "', '" + UUID.randomUUID() + "', '" + clients.get(0) + "', 'scheduled',"
                    + " 'success', 300000, now() - interval '2 days', now() - interval '2 days', now() - interval '2 days'),"
                    + " ('" + UUID.randomUUID() + "', '" + UUID.randomUUID() + "', '" + clients.get(2) + "', 'scheduled',"
                    + " 'success', 300000, now() - interval '1 day', now() - interval '1 day', now() - interval '1 day')");
            // that invocation is alive: its heartbeat is a second old, its lease 90 s
            InvocationKit.Other elsewhere = InvocationKit.otherInvocationOn(dsl, clients.get(1), "interval '1 second'", 90_000,
                    "interval '3 days'");

            Cli.Result result = run(db, "--output", "json");

            assertThat(result.exitCode()).as(describe(result)).isZero();
            com.fasterxml.jackson.databind.JsonNode report = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(result.out());
            List<String> order = new ArrayList<>();
            report.get("clients").forEach(c -> order.add(c.get("clientName").asText() + " " + c.get("status").asText()
                    + " " + c.get("leadsDeEnrolled").asInt()));
            assertThat(order).containsExactly("Acme success 4", "Core success 4", "Beta success 4");
            assertThat(report.get("abandonedRunsClosed")).as("runs closed as abandoned").isEmpty();
            UUID invocation = UUID.fromString(report.get("invocationId").asText());
            assertThat(InvocationKit.invocation(dsl, invocation).getDeferred()).as("clients deferred").isEqualTo(1);
            assertThat(InvocationKit.run(dsl, elsewhere.run()).getStatus()).as("the other invocation's run").isEqualTo("running");
            assertThat(InvocationKit.invocation(dsl, elsewhere.invocation()).getStatus()).isEqualTo("running");
            assertThat(f.eligible()).isZero();
            assertThat(f.drift()).isZero();
        }
    }

    private static List<UUID> eligibleLeadIds(DSLContext dsl) {
        return dsl.fetch("SELECT lead_id FROM de_enrollment_eligible_leads").getValues(0, UUID.class);
    }

    /** One de_enrolled log row and one history entry (histories started empty) per lead, and nothing else logged. */
    private static void assertEachDeEnrolledExactlyOnce(DSLContext dsl, List<UUID> eligible) {
        assertThat(leadsLoggedTwice(dsl)).as("leads with more than one de_enrolled row").isEmpty();
        assertThat(dsl.selectDistinct(DE_ENROLLMENT_LEAD_LOG.LEAD_ID).from(DE_ENROLLMENT_LEAD_LOG)
                .where(DE_ENROLLMENT_LEAD_LOG.ACTION.eq("de_enrolled")).fetch(DE_ENROLLMENT_LEAD_LOG.LEAD_ID))
                .as("leads logged as de_enrolled").containsExactlyInAnyOrderElementsOf(eligible);
        assertThat(dsl.fetchCount(DE_ENROLLMENT_LEAD_LOG, DE_ENROLLMENT_LEAD_LOG.ACTION.ne("de_enrolled")))
                .as("error or skipped log rows").isZero();
        assertThat(dsl.select(LEADS.ID).from(LEADS)
                .where(LEADS.ID.in(eligible))
                .and(DSL.field("jsonb_array_length({0})", Integer.class, LEADS.CAMPAIGN_HISTORY).ne(1)
                        .or(LEADS.IS_ACTIVE).or(LEADS.COMPLETED_AT.isNull()))
                .fetch(LEADS.ID))
                .as("eligible leads not de-enrolled with exactly one history entry").isEmpty();
    }

    /** Runs {@code n} copies of {@code work}, released at the same moment, and returns their results. */
    private static <T> List<T> together(int n, Callable<T> work) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            CountDownLatch ready = new CountDownLatch(n);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                futures.add(pool.submit(() -> {
                    ready.countDown();
                    go.await();
                    return work.call();
                }));
            }
            ready.await();
            go.countDown();
            List<T> results = new ArrayList<>();
            for (Future<T> future : futures) {
                results.add(future.get(5, TimeUnit.MINUTES));
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }
}
