package deenroll.engine;

import com.fasterxml.jackson.databind.JsonNode;
import deenroll.alert.AlertSink;
import deenroll.db.schema.tables.records.DeEnrollmentInvocationsRecord;
import deenroll.db.schema.tables.records.DeEnrollmentRunsRecord;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static deenroll.db.schema.Tables.DE_ENROLLMENT_INVOCATIONS;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_RUNS;
import static deenroll.engine.EngineTestKit.describe;
import static deenroll.engine.EngineTestKit.json;
import static deenroll.engine.EngineTestKit.leadsLoggedTwice;
import static deenroll.engine.EngineTestKit.logRows;
import static deenroll.engine.EngineTestKit.run;
import static deenroll.engine.EngineTestKit.runRows;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The time budget (DESIGN §2 exit 3, §4): when it runs out with work left the
 * invocation says partial, and the next invocations pick up where it stopped
 * until everything is done, each lead once. The invocation's row says why it
 * stopped: 'budget' when it was cut short, 'done' when every client had its run.
 */
class EngineBudgetTest {

    private static final String[] TINY_BUDGET = {"--max-runtime", "1", "--batch-size", "1", "--output", "json"};

    @Test
    void aBudgetThatRunsOutWithWorkLeftIsPartial() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            severalClientsWithFinishedLeads(f);

            Cli.Result result = run(db, TINY_BUDGET);

            assertThat(result.exitCode()).as("exit code of a run out of budget; " + describe(result)).isEqualTo(3);
            JsonNode report = json(result);
            assertThat(report.get("status").asText()).isEqualTo("partial");
            List<DeEnrollmentRunsRecord> runs = runRows(dsl);
            boolean partialRun = runs.stream().anyMatch(r -> r.getStatus().equals("partial"));
            boolean clientsWaiting = !report.get("clientsNotStarted").isEmpty();
            assertThat(partialRun || clientsWaiting)
                    .as("a run row closed as partial, or clients not started; runs %s, report %s", runs, report)
                    .isTrue();
            assertThat(runs).extracting(DeEnrollmentRunsRecord::getStatus).as("no run left running")
                    .doesNotContain("running");
            assertThat(f.eligible()).as("leads still eligible").isPositive();
            assertThat(f.drift()).isZero();
            assertThat(report.get("stopReason").asText()).isEqualTo("budget");
            DeEnrollmentInvocationsRecord row = invocationRow(dsl, UUID.fromString(report.get("invocationId").asText()));
            assertThat(row.getStatus() + " " + row.getStopReason()).as("the invocation's row").isEqualTo("finished budget");
            assertThat(row.getFinishedAt()).isNotNull();
        }
    }

    @Test
    void repeatedRunsOnATinyBudgetFinishTheWork() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            List<UUID> finished = severalClientsWithFinishedLeads(f);

            List<Integer> exits = new ArrayList<>();
            Cli.Result last;
            do {
                last = run(db, TINY_BUDGET);
                exits.add(last.exitCode());
                assertThat(last.exitCode()).as("exit code of run %d; %s", exits.size(), describe(last)).isIn(0, 3);
                assertThat(f.drift()).as("drift after run %d", exits.size()).isZero();
            } while (last.exitCode() != 0 && exits.size() < 60);

            assertThat(f.eligible()).as("leads still eligible after %d runs (exit codes %s)", exits.size(), exits)
                    .isZero();
            assertThat(leadsLoggedTwice(dsl)).isEmpty();
            for (UUID id : finished) {
                assertThat(logRows(dsl, id, "de_enrolled")).as("de_enrolled rows of lead %s", id).isEqualTo(1);
            }
            assertThat(dsl.fetchCount(DE_ENROLLMENT_RUNS, DE_ENROLLMENT_RUNS.STATUS.eq("running")))
                    .as("run rows left running").isZero();
            assertThat(last.exitCode())
                    .as("the last of %d tiny-budget runs, with nothing left to do, exits 0 (exit codes %s); last: %s",
                            exits.size(), exits, describe(last))
                    .isZero();
            assertThat(dsl.fetchCount(DE_ENROLLMENT_INVOCATIONS)).as("invocation rows").isEqualTo(exits.size());
            assertThat(dsl.fetchCount(DE_ENROLLMENT_INVOCATIONS, DE_ENROLLMENT_INVOCATIONS.STATUS.ne("finished")))
                    .as("invocations not finished").isZero();
            // cut short ('budget') unless every client had its run ('done'), as its row says
            assertThat(dsl.fetch("SELECT stop_reason, position > cardinality(client_ids) AS every_client_run, count(*)"
                    + " FROM de_enrollment_invocations GROUP BY 1, 2 ORDER BY 1, 2").formatCSV(false))
                    .as("stop reasons of the invocations on a 1 ms budget")
                    .doesNotContain("budget,true").doesNotContain("done,false").contains("budget,false");
            assertThat(dsl.fetchCount(DE_ENROLLMENT_INVOCATIONS, DE_ENROLLMENT_INVOCATIONS.STOP_REASON.notIn("budget", "done")))
                    .isZero();
        }
    }

    @Test
    void invocationsCutShortByTheBudgetTakeTurnsUntilEveryClientIsDone() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            List<UUID> finished = severalClientsWithFinishedLeads(f);
            Engine engine = engine(db);
            // a clock that moves two minutes per reading, against a budget of 90 s: spent by the time the
            // first call starts, so each invocation does the one batch a call always does, without
            // depending on how fast the machine is
            RunRequest request = request(Duration.ofSeconds(90));

            List<InvocationStatus> statuses = new ArrayList<>();
            List<UUID> firstClients = new ArrayList<>();
            while (f.eligible() > 0 && statuses.size() < 40) {
                Invocation inv = engine(db, new SteppingClock(Duration.ofMinutes(2))).run(request);
                statuses.add(inv.status());
                assertThat(inv.status()).as("status of invocation %d", statuses.size()).isNotEqualTo(InvocationStatus.FAILED);
                assertThat(inv.stopReason()).as("stop reason of invocation %d", statuses.size()).isEqualTo(StopReason.BUDGET);
                // the clients left with nothing were closed at once by the first look (0030), then the one batch
                List<ClientRun> batched = inv.clients().stream().filter(c -> c.batches() > 0).toList();
                assertThat(batched).as("runs of invocation %d with a batch: the one batch", statuses.size()).hasSize(1);
                assertThat(inv.clients()).as("runs of invocation %d without one: clients with nothing left",
                        statuses.size()).filteredOn(c -> c.batches() == 0)
                        .allSatisfy(c -> assertThat(c.counts().evaluated() + " " + c.status()).isEqualTo("0 SUCCESS"));
                assertThat(inv.clients().size() + inv.notStarted().size()).as("clients of invocation %d", statuses.size())
                        .isEqualTo(3);
                assertThat(inv.notStarted()).as("clients invocation %d did not start: they have work", statuses.size())
                        .allMatch(Invocation.ClientNotStarted::workLeft);
                firstClients.add(batched.get(0).clientId());
                DeEnrollmentInvocationsRecord row = invocationRow(dsl, inv.invocationId());
                assertThat(row.getStatus() + " " + row.getStopReason()).as("row of invocation %d", statuses.size())
                        .isEqualTo("finished budget");
                assertThat(f.drift()).as("drift after invocation %d", statuses.size()).isZero();
            }

            assertThat(f.eligible()).as("leads still eligible after %d invocations (%s)", statuses.size(), statuses)
                    .isZero();
            assertThat(statuses).as("one batch of one lead per invocation").hasSize(finished.size());
            assertThat(statuses.get(0)).as("the first invocation, out of budget with work left")
                    .isEqualTo(InvocationStatus.PARTIAL);
            // least recently run first: the clients take turns, one lead each
            assertThat(firstClients.subList(0, 3)).as("clients of the first three invocations").doesNotHaveDuplicates();
            for (int i = 3; i < firstClients.size(); i++) {
                assertThat(firstClients.get(i)).as("client of invocation %d", i + 1).isEqualTo(firstClients.get(i - 3));
            }
            for (UUID id : finished) {
                assertThat(logRows(dsl, id, "de_enrolled")).as("de_enrolled rows of lead %s", id).isEqualTo(1);
            }
            assertThat(dsl.fetchCount(DE_ENROLLMENT_RUNS, DE_ENROLLMENT_RUNS.STATUS.eq("running"))).isZero();

            // with time enough, every client has its run: the invocation is done
            Invocation last = engine.run(request);
            assertThat(last.status()).isEqualTo(InvocationStatus.SUCCESS);
            assertThat(last.stopReason()).isEqualTo(StopReason.DONE);
            assertThat(last.clients()).hasSize(3).allSatisfy(c -> assertThat(c.status()).isEqualTo(RunStatus.SUCCESS));
            assertThat(last.notStarted()).isEmpty();
            DeEnrollmentInvocationsRecord row = invocationRow(dsl, last.invocationId());
            assertThat(row.getStatus() + " " + row.getStopReason()).isEqualTo("finished done");
        }
    }

    /**
     * 0030: a client with nothing to do costs no batch of its own. The first call of an invocation looks at
     * every client at once and closes the runs of those with nothing eligible, so even a budget spent
     * before that call (a clock moving two minutes per reading, against 90 s) visits every client.
     */
    @Test
    void anInvocationWithNothingEligibleVisitsEveryClientInItsFirstCall() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            for (int c = 0; c < 3; c++) {
                UUID client = f.client("Client " + c);
                f.lead(client, f.campaign(client, 2), 1); // still in its sequence: nothing to do anywhere
            }
            f.recount();
            assertThat(f.eligible()).isZero();
            RunRequest request = request(Duration.ofSeconds(90));

            Invocation inv = engine(db, new SteppingClock(Duration.ofMinutes(2))).run(request);

            assertThat(inv.status())
                    .as("status with nothing eligible; clients run %s, not started %s", inv.clients(), inv.notStarted())
                    .isEqualTo(InvocationStatus.SUCCESS);
            assertThat(inv.stopReason()).isEqualTo(StopReason.DONE);
            assertThat(inv.notStarted()).isEmpty();
            assertThat(inv.clients()).as("clients visited").hasSize(3).allSatisfy(c -> assertThat(
                    c.status() + " " + c.counts().evaluated() + " " + c.batches()).isEqualTo("SUCCESS 0 0"));
            DeEnrollmentInvocationsRecord row = invocationRow(dsl, inv.invocationId());
            assertThat(row.getStopReason() + " " + row.getPosition()).isEqualTo("done 4");
            assertThat(dsl.fetchCount(DE_ENROLLMENT_RUNS, DE_ENROLLMENT_RUNS.INVOCATION_ID.eq(inv.invocationId())
                    .and(DE_ENROLLMENT_RUNS.FINISHED_AT.isNotNull()))).as("closed run rows").isEqualTo(3);
        }
    }

    /** Every active client, batches of one, lease 90 s. */
    private static RunRequest request(Duration budget) {
        return new RunRequest(Optional.empty(), RunType.SCHEDULED, 1, budget, Duration.ofSeconds(90), false, false);
    }

    private static DeEnrollmentInvocationsRecord invocationRow(DSLContext dsl, UUID id) {
        return dsl.selectFrom(DE_ENROLLMENT_INVOCATIONS).where(DE_ENROLLMENT_INVOCATIONS.ID.eq(id)).fetchSingle();
    }

    private static Engine engine(TestDatabase db) {
        return engine(db, Clock.systemUTC());
    }

    private static Engine engine(TestDatabase db, Clock clock) {
        return Engine.on(db.db(), AlertSink.NONE, clock, new StopSignal());
    }

    /** A clock that moves forward by a fixed step every time it is read. */
    private static final class SteppingClock extends Clock {
        private final Instant start = Instant.parse("2026-06-01T00:00:00Z");
        private final Duration step;
        private final AtomicLong readings = new AtomicLong();

        SteppingClock(Duration step) {
            this.step = step;
        }

        @Override
        public Instant instant() {
            return start.plus(step.multipliedBy(readings.getAndIncrement()));
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    /** Three clients with four finished leads each (and one still in its sequence). */
    private static List<UUID> severalClientsWithFinishedLeads(Fixtures f) {
        List<UUID> finished = new ArrayList<>();
        for (int c = 0; c < 3; c++) {
            UUID client = f.client("Client " + c);
            UUID campaign = f.campaign(client, 2);
            for (int i = 0; i < 4; i++) {
                finished.add(f.lead(client, campaign, 2));
            }
            f.lead(client, campaign, 1);
        }
        f.recount();
        return finished;
    }
}
