package deenroll.engine;

import com.fasterxml.jackson.databind.JsonNode;
import deenroll.alert.AlertSink;
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
 * until everything is done, each lead once.
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
            RunRequest request = new RunRequest(Optional.empty(), RunType.SCHEDULED, 1, Duration.ofSeconds(90), false);

            List<RunStatus> statuses = new ArrayList<>();
            while (f.eligible() > 0 && statuses.size() < 40) {
                Invocation inv = engine(db, new SteppingClock(Duration.ofMinutes(2)))
                        .run(request, engine.activeClients());
                statuses.add(inv.status());
                assertThat(inv.status()).as("status of invocation %d", statuses.size()).isNotEqualTo(RunStatus.FAILED);
                assertThat(f.drift()).as("drift after invocation %d", statuses.size()).isZero();
            }

            assertThat(f.eligible()).as("leads still eligible after %d invocations (%s)", statuses.size(), statuses)
                    .isZero();
            assertThat(statuses.get(0)).as("the first invocation, out of budget with work left").isEqualTo(RunStatus.PARTIAL);
            for (UUID id : finished) {
                assertThat(logRows(dsl, id, "de_enrolled")).as("de_enrolled rows of lead %s", id).isEqualTo(1);
            }
            assertThat(dsl.fetchCount(DE_ENROLLMENT_RUNS, DE_ENROLLMENT_RUNS.STATUS.eq("running"))).isZero();
        }
    }

    @Test
    void anInvocationThatRunsOutOfBudgetWithNothingEligibleIsNotPartial() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            for (int c = 0; c < 3; c++) {
                UUID client = f.client("Client " + c);
                f.lead(client, f.campaign(client, 2), 1); // still in its sequence: nothing to do anywhere
            }
            f.recount();
            assertThat(f.eligible()).isZero();
            RunRequest request = new RunRequest(Optional.empty(), RunType.SCHEDULED, 1, Duration.ofSeconds(90), false);

            // the budget (90 s on a clock moving two minutes per reading) runs out after the first client
            Invocation inv = engine(db, new SteppingClock(Duration.ofMinutes(2))).run(request, engine(db).activeClients());

            // "3: time budget ran out with work left" (DESIGN §2): with nothing eligible there is no work left,
            // whether or not every client was visited; partial here means exit 3 every time for ever
            assertThat(inv.status())
                    .as("status with nothing eligible; clients run %s, not started %s", inv.clients(), inv.notReached())
                    .isEqualTo(RunStatus.SUCCESS);
        }
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
