package deenroll.engine;

import com.fasterxml.jackson.databind.JsonNode;
import deenroll.db.schema.tables.records.CampaignsRecord;
import deenroll.db.schema.tables.records.DeEnrollmentInvocationsRecord;
import deenroll.db.schema.tables.records.LeadsRecord;
import deenroll.faults.ChildRun;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.Query;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Test;

import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static deenroll.db.schema.Tables.DE_ENROLLMENT_HEARTBEATS;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_INVOCATIONS;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_LEAD_LOG;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_RUNS;
import static deenroll.engine.EngineTestKit.campaigns;
import static deenroll.engine.EngineTestKit.describe;
import static deenroll.engine.EngineTestKit.json;
import static deenroll.engine.EngineTestKit.leads;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * `deenroll pause` / `resume` / `status` as they meet `deenroll run` (0027): a
 * pause kept in the database stops new runs before they write anything and
 * runs in flight at their next batch; status lists the invocations running
 * on the database with where each one is.
 */
class PauseAndStatusTest {

    /** Three clients with {@code leads} finished leads each (and one still in its sequence). */
    private static List<UUID> threeClients(DSLContext dsl, int leads) {
        Fixtures f = new Fixtures(dsl);
        List<UUID> clients = new ArrayList<>();
        for (int c = 0; c < 3; c++) {
            UUID client = f.client("Client " + c);
            UUID campaign = f.campaign(client, 2);
            InvocationKit.bulkLeads(dsl, client, campaign, 2, leads);
            f.lead(client, campaign, 1);
            clients.add(client);
        }
        f.recount();
        return clients;
    }

    private static List<String> linesMentioningThePause(String text) {
        return text.lines().filter(l -> l.toLowerCase(Locale.ROOT).contains("pause")).toList();
    }

    /** `run --batch-size 1 --output json` in a thread of its own, as another process would run it. */
    private static CompletableFuture<Cli.Result> runInBackground(TestDatabase db) {
        return CompletableFuture.supplyAsync(() -> Cli.run(db, "run", "--batch-size", "1", "--output", "json"));
    }

    /** Waits for the first run row of the run in flight; its invocation's id. */
    private static UUID firstRunRow(DSLContext dsl, CompletableFuture<Cli.Result> run) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < end) {
            UUID invocation = dsl.select(DE_ENROLLMENT_RUNS.INVOCATION_ID).from(DE_ENROLLMENT_RUNS).limit(1)
                    .fetchOne(DE_ENROLLMENT_RUNS.INVOCATION_ID);
            if (invocation != null) {
                return invocation;
            }
            assertThat(run.isDone()).as("the run ended before its first run row was seen: %s",
                    run.isDone() ? describe(run.get()) : "").isFalse();
            Thread.sleep(10);
        }
        throw new AssertionError("no run row within 60 s");
    }

    @Test
    void whilePausedARunDoesNothingAndExitsZero() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            threeClients(dsl, 3);
            Cli.Result pause = Cli.run(db, "pause", "--reason", "restore of leads, ticket OPS-1");
            assertThat(pause.exitCode()).as(describe(pause)).isZero();
            Map<UUID, LeadsRecord> leadsBefore = leads(dsl);
            Map<UUID, CampaignsRecord> campaignsBefore = campaigns(dsl);

            Cli.Result result = Cli.run(db, "run", "--output", "json");

            assertThat(result.exitCode()).as(describe(result)).isZero();
            JsonNode report = json(result);
            assertThat(report.get("status").asText()).isEqualTo("paused");
            assertThat(report.get("stopReason").asText()).isEqualTo("paused");
            assertThat(report.get("clients")).isEmpty();
            assertThat(report.get("totals").get("leadsDeEnrolled").asInt()).isZero();
            List<String> mentions = linesMentioningThePause(result.err());
            assertThat(mentions).as("stderr lines about the pause: %s", result.err()).hasSize(1);
            assertThat(mentions.get(0)).contains("restore of leads, ticket OPS-1").contains("--ignore-pause");
            assertThat(dsl.fetchCount(DE_ENROLLMENT_INVOCATIONS)).as("invocation rows").isZero();
            assertThat(dsl.fetchCount(DE_ENROLLMENT_HEARTBEATS)).as("heartbeat rows").isZero();
            assertThat(dsl.fetchCount(DE_ENROLLMENT_RUNS)).as("run rows").isZero();
            assertThat(dsl.fetchCount(DE_ENROLLMENT_LEAD_LOG)).as("lead log rows").isZero();
            assertThat(leads(dsl)).as("leads").isEqualTo(leadsBefore);
            assertThat(campaigns(dsl)).as("campaigns").isEqualTo(campaignsBefore);

            // the same as a process of its own, logging at info: its real stderr (merged with stdout by ChildRun,
            // whose JSON lines are told apart by their indentation) has that one line about the pause, no log line
            try (ChildRun child = ChildRun.start(db.jdbcUrl(), Map.of("LOG_LEVEL", "info"), "run", "--output", "json")) {
                assertThat(child.waitFor(60)).as("exit code of the process").isZero();
                String output = child.output();
                List<String> notJson = output.lines()
                        .filter(l -> !(l.startsWith("{") || l.startsWith("}") || l.startsWith(" "))).toList();
                assertThat(linesMentioningThePause(String.join("\n", notJson))).as("stderr lines about the pause:%n%s", output)
                        .hasSize(1).allSatisfy(l -> assertThat(l).startsWith("deenroll: paused since"));
                assertThat(output).contains("\"status\" : \"paused\"");
            }
            assertThat(dsl.fetchCount(DE_ENROLLMENT_INVOCATIONS)).as("invocation rows").isZero();
            assertThat(dsl.fetchCount(DE_ENROLLMENT_RUNS)).as("run rows").isZero();
            assertThat(leads(dsl)).as("leads").isEqualTo(leadsBefore);
        }
    }

    @Test
    void ignorePauseRunsAnyway() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            threeClients(dsl, 3);
            assertThat(Cli.run(db, "pause", "--reason", "test").exitCode()).isZero();

            Cli.Result result = Cli.run(db, "run", "--ignore-pause", "--output", "json");

            assertThat(result.exitCode()).as(describe(result)).isZero();
            JsonNode report = json(result);
            assertThat(report.get("status").asText()).isEqualTo("success");
            assertThat(report.get("totals").get("leadsDeEnrolled").asInt()).isEqualTo(9);
            assertThat(linesMentioningThePause(result.err())).as("stderr").isEmpty();
            assertThat(new Fixtures(dsl).eligible()).isZero();
            DeEnrollmentInvocationsRecord row = InvocationKit.invocation(dsl, UUID.fromString(report.get("invocationId").asText()));
            assertThat(row.getIgnorePause()).isTrue();
            assertThat(row.getStopReason()).isEqualTo("done");
            assertThat(json(Cli.run(db, "status", "--output", "json").out()).get("paused").get("reason").asText())
                    .as("the pause, still in force").isEqualTo("test");
        }
    }

    @Test
    void aPauseStopsARunInFlightAtItsNextBatch() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            threeClients(dsl, 1000);
            CompletableFuture<Cli.Result> run = runInBackground(db);
            UUID invocation = firstRunRow(dsl, run);

            Cli.Result pause = Cli.run(db, "pause", "--reason", "test");
            int deEnrolledAtPause = Query.value(dsl, Integer.class,
                    "SELECT count(*) FROM de_enrollment_lead_log WHERE action = 'de_enrolled'");
            Cli.Result result = run.get(60, TimeUnit.SECONDS);

            assertThat(pause.exitCode()).as(describe(pause)).isZero();
            assertThat(result.exitCode()).as(describe(result)).isZero();
            JsonNode report = json(result);
            assertThat(report.get("invocationId").asText()).isEqualTo(invocation.toString());
            assertThat(report.get("status").asText()).isEqualTo("paused");
            assertThat(report.get("stopReason").asText()).isEqualTo("paused");
            List<JsonNode> clients = new ArrayList<>();
            report.get("clients").forEach(clients::add);
            assertThat(clients).as("runs of the paused invocation: %s", report).isNotEmpty();
            assertThat(clients.get(clients.size() - 1).get("status").asText()).as("the run in flight").isEqualTo("partial");
            assertThat(clients.subList(0, clients.size() - 1)).allSatisfy(c ->
                    assertThat(c.get("status").asText()).as("a run before the one in flight").isEqualTo("success"));
            JsonNode notStarted = report.get("clientsNotStarted");
            assertThat(notStarted).as("clients not reached").isNotEmpty();
            assertThat(clients.size() + notStarted.size()).isEqualTo(3);
            notStarted.forEach(c -> assertThat(c.get("workLeft").asBoolean()).as("work left of %s", c).isTrue());
            assertThat(dsl.fetchCount(DE_ENROLLMENT_RUNS, DE_ENROLLMENT_RUNS.STATUS.eq("running"))).as("runs left running")
                    .isZero();
            assertThat(dsl.fetchCount(DE_ENROLLMENT_RUNS)).isEqualTo(clients.size());
            DeEnrollmentInvocationsRecord row = InvocationKit.invocation(dsl, invocation);
            assertThat(row.getStatus() + " " + row.getStopReason()).isEqualTo("finished paused");
            // the batch loop looks for a pause before every batch: only the batch in flight may have committed since
            int deEnrolled = Query.value(dsl, Integer.class,
                    "SELECT count(*) FROM de_enrollment_lead_log WHERE action = 'de_enrolled'");
            assertThat(deEnrolled - deEnrolledAtPause).as("leads de-enrolled after the pause (batches of 1)")
                    .isBetween(0, 1);
            assertThat(report.get("totals").get("leadsDeEnrolled").asInt()).isEqualTo(deEnrolled);
            assertThat(new Fixtures(dsl).eligible()).isEqualTo(3000 - deEnrolled).isPositive();
            assertThat(new Fixtures(dsl).drift()).isZero();

            // while the pause holds, the next run starts nothing
            Cli.Result next = Cli.run(db, "run", "--output", "json");
            assertThat(json(next).get("status").asText()).isEqualTo("paused");
            assertThat(dsl.fetchCount(DE_ENROLLMENT_INVOCATIONS)).isEqualTo(1);
            // resumed: the next run finishes the work, the clients left out first
            assertThat(Cli.run(db, "resume").exitCode()).isZero();
            Cli.Result resumed = Cli.run(db, "run", "--output", "json");
            assertThat(resumed.exitCode()).as(describe(resumed)).isZero();
            assertThat(json(resumed).get("clients").get(0).get("clientId").asText())
                    .as("the first client of the run after resume").isEqualTo(notStarted.get(0).get("clientId").asText());
            assertThat(new Fixtures(dsl).eligible()).isZero();
            assertThat(EngineTestKit.leadsLoggedTwice(dsl)).isEmpty();
        }
    }

    @Test
    void statusListsARunInFlightWithItsClientInFlightAndProgress() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            List<UUID> clients = threeClients(dsl, 1000);
            CompletableFuture<Cli.Result> run = runInBackground(db);
            UUID invocation = firstRunRow(dsl, run);

            Cli.Result status;
            UUID inFlight;
            int position;
            int deEnrolled;
            try (Connection batch = DriverManager.getConnection(db.jdbcUrl())) {
                // hold the invocation's lock, as one of its own batches does: the run waits before its next batch,
                // so what status reads and what this connection reads are the same moment
                batch.setAutoCommit(false);
                try (PreparedStatement lock = batch.prepareStatement("SELECT de_enrollment_lock_invocation(?)")) {
                    lock.setObject(1, invocation);
                    lock.execute();
                }
                try (PreparedStatement where = batch.prepareStatement("SELECT client_ids,"
                        + " de_enrollment_invocation_position(id) FROM de_enrollment_invocations WHERE id = ?")) {
                    where.setObject(1, invocation);
                    try (ResultSet r = where.executeQuery()) {
                        r.next();
                        Array ids = r.getArray(1);
                        position = r.getInt(2);
                        inFlight = ((UUID[]) ids.getArray())[position - 1];
                    }
                }
                try (PreparedStatement sum = batch.prepareStatement("SELECT coalesce(sum(leads_de_enrolled), 0)::int"
                        + " FROM de_enrollment_runs WHERE invocation_id = ?")) {
                    sum.setObject(1, invocation);
                    try (ResultSet r = sum.executeQuery()) {
                        r.next();
                        deEnrolled = r.getInt(1);
                    }
                }
                status = Cli.run(db, "status", "--output", "json");
                batch.commit();
            }

            assertThat(status.exitCode()).as(describe(status)).isZero();
            JsonNode json = json(status);
            assertThat(json.get("paused").isNull()).isTrue();
            assertThat(json.get("abandonedClosed").asInt()).isZero();
            assertThat(json.get("invocations")).as("invocations listed: %s", json).hasSize(1);
            JsonNode listed = json.get("invocations").get(0);
            assertThat(listed.get("invocationId").asText()).isEqualTo(invocation.toString());
            assertThat(listed.get("host").asText()).isEqualTo(Runs.host());
            assertThat(listed.get("pid").asLong()).as("pid of the process running it (this JVM)")
                    .isEqualTo(ProcessHandle.current().pid());
            assertThat(listed.get("runType").asText()).isEqualTo("scheduled");
            assertThat(listed.get("startedAt").asText()).isNotBlank();
            assertThat(listed.get("heartbeatAgeSeconds").asDouble()).isBetween(0.0, 90.0);
            assertThat(listed.get("leaseSeconds").asInt()).isEqualTo(90);
            assertThat(listed.get("clientInFlight").get("clientId").asText()).isEqualTo(inFlight.toString());
            assertThat(listed.get("clientInFlight").get("clientName").asText()).isEqualTo("Client " + clients.indexOf(inFlight));
            assertThat(listed.get("clientsDone").asInt()).isEqualTo(position - 1);
            assertThat(listed.get("clientsTotal").asInt()).isEqualTo(3);
            assertThat(listed.get("leadsDeEnrolled").asInt()).isEqualTo(deEnrolled).isPositive();

            // paused, the run ends; status then lists no invocation, and the pause
            assertThat(Cli.run(db, "pause", "--reason", "test").exitCode()).isZero();
            Cli.Result result = run.get(60, TimeUnit.SECONDS);
            assertThat(result.exitCode()).as(describe(result)).isZero();
            JsonNode after = json(Cli.run(db, "status", "--output", "json"));
            assertThat(after.get("invocations")).isEmpty();
            assertThat(after.get("paused").get("reason").asText()).isEqualTo("test");
        }
    }
}
