package deenroll.engine;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import deenroll.alert.AlertSink;
import deenroll.db.DbErrors;
import deenroll.db.schema.tables.records.DeEnrollmentInvocationsRecord;
import deenroll.support.Fixtures;
import deenroll.support.Query;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static deenroll.engine.InvocationKit.begin;
import static deenroll.engine.InvocationKit.call;
import static deenroll.engine.InvocationKit.client;
import static deenroll.engine.InvocationKit.invocation;
import static deenroll.engine.InvocationKit.run;
import static deenroll.engine.InvocationKit.runId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * 0030: a client with nothing to do costs next to nothing. The first call of an
 * invocation closes the runs of every client with nothing eligible in one
 * statement, and a transaction carries the short walks of several clients up
 * to the batch size, each client still a subtransaction of its own. The
 * transactions show in the rows: every row a transaction writes has its start
 * time (now()), the runs' run_at and the lead log's processed_at. 0032: the clients
 * with a handful of leads each are done as a group, one statement per step for all of them.
 */
class IdleClientsTest {

    private static final UUID INVOCATION = UUID.fromString("00000000-0000-0000-0000-0000000000bb");

    @Test
    void theFirstCallClosesTheRunsOfEveryIdleClientInOneStatementAndTheBatchesNeverSeeThem() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID withWork = client(dsl, 1, "With work");
            f.leads(withWork, f.campaign(withWork, 1), 1, 2);
            UUID inSequence = client(dsl, 2, "Leads still in their sequence");
            f.leads(inSequence, f.campaign(inSequence, 3), 1, 2);
            UUID malformed = client(dsl, 3, "Malformed campaign");
            f.leads(malformed, f.campaignWithMessages(malformed, "{\"not\": \"an array\"}"), 9, 2);
            UUID empty = client(dsl, 4, "No campaign");
            UUID alsoWork = client(dsl, 5, "Also with work");
            f.leads(alsoWork, f.campaign(alsoWork, 2), 2, 3);
            f.recount();
            recordLeadUpdates(db);
            begin(dsl, INVOCATION, 100, false);

            assertThat(call(dsl, INVOCATION, 60_000)).isEqualTo("done");

            assertThat(leadUpdates(dsl)).as("leads per UPDATE: the two clients with work as one group").isEqualTo("5");
            DeEnrollmentInvocationsRecord row = invocation(dsl, INVOCATION);
            assertThat(row.getClientIds()).as("the idle clients first, done first; then the others, in order")
                    .containsExactly(inSequence, malformed, empty, withWork, alsoWork);
            assertThat(row.getPosition()).isEqualTo(6);
            for (UUID idle : new UUID[] {inSequence, malformed, empty}) {
                assertThat(run(dsl, runId(INVOCATION, idle))).as("run of an idle client")
                        .satisfies(r -> assertThat(r.getStatus() + " " + r.getLeadsEvaluated() + " " + r.getBatches()
                                + " " + (r.getFinishedAt() != null)).isEqualTo("success 0 0 true"));
            }
            assertThat(Query.value(dsl, Integer.class, "SELECT count(DISTINCT run_at)::int FROM de_enrollment_runs"
                    + " WHERE invocation_id = ? AND batches = 0", INVOCATION)).as("transactions of the idle runs").isEqualTo(1);
            assertThat(run(dsl, runId(INVOCATION, withWork)).getLeadsDeEnrolled()).isEqualTo(2);
            assertThat(run(dsl, runId(INVOCATION, alsoWork)).getLeadsDeEnrolled()).isEqualTo(3);
            assertThat(Query.value(dsl, String.class, "SELECT string_agg(n::text, ',' ORDER BY n) FROM (SELECT count(*) AS n"
                    + " FROM de_enrollment_lead_log GROUP BY processed_at) AS t"))
                    .as("leads de-enrolled per transaction: both clients with work in one").isEqualTo("5");
            assertThat(f.eligible()).isZero();
            assertThat(f.drift()).isZero();

            // a second call finds the invocation done and looks at nothing again
            assertThat(call(dsl, INVOCATION, 60_000)).isEqualTo("done");
            assertThat(Query.value(dsl, Integer.class, "SELECT count(*)::int FROM de_enrollment_runs")).isEqualTo(5);
        }
    }

    /**
     * A client with nothing to do says so in one summary line for all of them, not a line each: with
     * thousands of clients those lines buried the ones that say something. LOG_LEVEL=debug lists them.
     */
    @Test
    void theClientsWithNothingToDoAreOneLineOfTheLogAndListedAtDebug() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID acme = client(dsl, 1, "Acme");
            f.leads(acme, f.campaign(acme, 1), 1, 2);
            client(dsl, 2, "Idle One");
            UUID idle = client(dsl, 3, "Idle Two");
            f.leads(idle, f.campaign(idle, 3), 1, 2);
            f.recount();

            assertThat(engineLog(db, Level.INFO)).as("the engine's log at info")
                    .anyMatch(line -> line.startsWith("client Acme (" + acme + "): run "))
                    .contains("2 client(s) had nothing to de-enroll: each has its run, success with 0 leads"
                            + " (LOG_LEVEL=debug lists them)")
                    .noneMatch(line -> line.contains("Idle"));

            assertThat(engineLog(db, Level.DEBUG)).as("at debug")
                    .contains("3 client(s) had nothing to de-enroll: each has its run, success with 0 leads"
                            + " (LOG_LEVEL=debug lists them)")
                    .anyMatch(line -> line.startsWith("client Idle One ("))
                    .anyMatch(line -> line.startsWith("client Idle Two (" + idle + "): run "))
                    .anyMatch(line -> line.startsWith("client Acme (" + acme + "): run "));
        }
    }

    /** What one invocation of the engine logs at {@code level}. */
    private static List<String> engineLog(TestDatabase db, Level level) {
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        Logger logger = (Logger) LoggerFactory.getLogger(Engine.class);
        Level before = logger.getLevel();
        logger.setLevel(level);
        logger.addAppender(log);
        try {
            Engine.on(db.db(), AlertSink.NONE, Clock.systemUTC(), new StopSignal())
                    .run(new RunRequest(Optional.empty(), RunType.SCHEDULED, 100, Duration.ofMinutes(2),
                            Duration.ofSeconds(90), false, false));
        } finally {
            logger.detachAppender(log);
            logger.setLevel(before);
        }
        return log.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(level))
                .map(ILoggingEvent::getFormattedMessage).toList();
    }

    /**
     * Five clients of three leads, batches of four: a transaction goes on with the next client while it
     * has room, so the transactions de-enroll 4, 4, 4 and 3 leads (one transaction per client: 3 five times).
     */
    @Test
    void aTransactionTakesTheNextClientsUntilItsBatchSizeIsSpent() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            for (int n = 1; n <= 5; n++) {
                UUID c = client(dsl, n, "Client " + n);
                f.leads(c, f.campaign(c, 1), 1, 3);
            }
            f.recount();
            begin(dsl, INVOCATION, 4, false);

            assertThat(call(dsl, INVOCATION, 60_000)).isEqualTo("done");

            assertThat(Query.value(dsl, String.class, "SELECT string_agg(n::text, ',' ORDER BY first) FROM (SELECT count(*) AS n,"
                    + " min(id) AS first FROM de_enrollment_lead_log GROUP BY processed_at) AS t"))
                    .as("leads de-enrolled per transaction").isEqualTo("4,4,4,3");
            assertThat(Query.value(dsl, String.class, "SELECT string_agg(status || ' ' || leads_de_enrolled, ',')"
                    + " FROM de_enrollment_runs WHERE invocation_id = ?", INVOCATION))
                    .isEqualTo("success 3,success 3,success 3,success 3,success 3");
            assertThat(f.eligible()).isZero();
            assertThat(f.drift()).isZero();
            assertThat(leadsLoggedTwice(dsl)).as("leads logged twice").isZero();
        }
    }

    /**
     * 0032: the clients with a handful of leads each are done as a group, one statement per step. A
     * client whose walk takes all the room it was given ends the group: its leads grew since they were
     * counted (here the count is made to miss two of Beta's four), so its walk goes on in the next
     * transaction and the client after it waits for that one. Batches of six: Acme's 3 and Beta's first
     * 3 in the first transaction; Beta's last and Gamma's 2 in the second.
     */
    @Test
    void aClientWhoseWalkTakesAllItsRoomEndsTheGroupAndGoesOnInTheNextTransaction() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID acme = client(dsl, 1, "Acme");
            UUID beta = client(dsl, 2, "Beta");
            UUID gamma = client(dsl, 3, "Gamma");
            f.leads(acme, f.campaign(acme, 1), 1, 3);
            f.leads(beta, f.campaign(beta, 1), 1, 4);
            f.leads(gamma, f.campaign(gamma, 1), 1, 2);
            f.recount();
            db.sql("ALTER VIEW de_enrollment_eligible_leads RENAME TO test_all_eligible;"
                    + " CREATE VIEW de_enrollment_eligible_leads AS SELECT * FROM test_all_eligible AS e"
                    + " WHERE e.lead_id NOT IN (SELECT l.id FROM leads AS l WHERE l.client_id = '" + beta + "'"
                    + " ORDER BY l.id LIMIT 2)");
            recordLeadUpdates(db);
            begin(dsl, INVOCATION, 6, false);

            assertThat(call(dsl, INVOCATION, 60_000)).isEqualTo("done");

            assertThat(leadUpdates(dsl)).as("leads per UPDATE: Acme and Beta's first three as a group, then Beta's"
                    + " walk and Gamma (a group of one) each alone").isEqualTo("6,1,2");

            assertThat(Query.value(dsl, String.class, "SELECT string_agg(n, ',' ORDER BY first) FROM (SELECT"
                    + " string_agg(c.name, '+' ORDER BY c.name) || ' ' || count(*) AS n, min(g.id) AS first"
                    + " FROM (SELECT DISTINCT processed_at, client_id, min(id) OVER (PARTITION BY processed_at, client_id) AS id"
                    + " FROM de_enrollment_lead_log) AS g JOIN clients AS c ON c.id = g.client_id GROUP BY g.processed_at) AS t"))
                    .as("clients per transaction").isEqualTo("Acme+Beta 2,Beta+Gamma 2");
            assertThat(Query.value(dsl, String.class, "SELECT string_agg(n::text, ',' ORDER BY first) FROM (SELECT count(*) AS n,"
                    + " min(id) AS first FROM de_enrollment_lead_log GROUP BY processed_at) AS t"))
                    .as("leads de-enrolled per transaction").isEqualTo("6,3");
            assertThat(Query.value(dsl, String.class, "SELECT string_agg(c.name || ' ' || r.status || ' ' || r.leads_evaluated"
                    + " || '/' || r.leads_de_enrolled || ' in ' || r.batches, ', ' ORDER BY c.name) FROM de_enrollment_runs AS r"
                    + " JOIN clients AS c ON c.id = r.client_id WHERE r.invocation_id = ?", INVOCATION))
                    .isEqualTo("Acme success 3/3 in 1, Beta success 4/4 in 2, Gamma success 2/2 in 1");
            assertThat(Query.value(dsl, Integer.class, "SELECT count(*)::int FROM test_all_eligible")).isZero();
            assertThat(f.drift()).isZero();
            assertThat(leadsLoggedTwice(dsl)).as("leads logged twice").isZero();
        }
    }

    /**
     * A lead that fails in a group (a host trigger refuses it) rolls the group back; the same transaction
     * goes on client by client, so only that lead is left enrolled and logged, and the clients before and
     * after it are de-enrolled as if there had been no group.
     */
    @Test
    void aLeadThatFailsInAGroupFailsAloneAndTheGroupsOtherClientsAreDone() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID acme = client(dsl, 1, "Acme");
            UUID beta = client(dsl, 2, "Beta");
            UUID gamma = client(dsl, 3, "Gamma");
            f.leads(acme, f.campaign(acme, 1), 1, 2);
            UUID betaCampaign = f.campaign(beta, 1);
            f.leads(beta, betaCampaign, 1, 1);
            UUID refused = f.lead(beta, betaCampaign, 1);
            f.leads(gamma, f.campaign(gamma, 1), 1, 2);
            f.recount();
            db.sql("CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                    + "   IF NEW.id = '" + refused + "' THEN RAISE EXCEPTION 'test: the host refuses this lead'; END IF;"
                    + "   RETURN NEW;"
                    + " END $$;"
                    + " CREATE TRIGGER test_refuse BEFORE UPDATE ON leads FOR EACH ROW EXECUTE FUNCTION test_refuse();");
            recordLeadUpdates(db);
            begin(dsl, INVOCATION, 100, false);

            assertThat(call(dsl, INVOCATION, 60_000)).isEqualTo("done");

            assertThat(leadUpdates(dsl)).as("leads per UPDATE that changed any: the group's rolled back, then client by"
                    + " client, Beta lead by lead").isEqualTo("2,1,2");
            assertThat(Query.value(dsl, String.class, "SELECT string_agg(c.name || ' ' || r.status || ' ' || r.leads_de_enrolled"
                    + " || ' de-enrolled, ' || r.leads_failed || ' failed', ', ' ORDER BY c.name) FROM de_enrollment_runs AS r"
                    + " JOIN clients AS c ON c.id = r.client_id WHERE r.invocation_id = ?", INVOCATION))
                    .isEqualTo("Acme success 2 de-enrolled, 0 failed, Beta success 1 de-enrolled, 1 failed,"
                            + " Gamma success 2 de-enrolled, 0 failed");
            assertThat(Query.value(dsl, String.class, "SELECT lead_id || ' ' || error_message FROM de_enrollment_lead_log"
                    + " WHERE action = 'error'")).isEqualTo(refused + " P0001: test: the host refuses this lead");
            assertThat(Query.value(dsl, Integer.class, "SELECT count(DISTINCT processed_at)::int FROM de_enrollment_lead_log"))
                    .as("transactions").isEqualTo(1);
            assertThat(f.eligible()).isEqualTo(1);
            assertThat(f.drift()).isZero();
        }
    }

    /**
     * A cancel that lands in a group and that no client meets again when the transaction goes on client by
     * client came from outside (the CALL's statement timeout, pg_cancel_backend): it still reaches the caller,
     * right after the COMMIT of the clients done meanwhile. Here a host trigger cancels any UPDATE of leads
     * that spans two clients, which only a group makes.
     */
    @Test
    void aCancelOnlyTheGroupMetIsRaisedAfterTheClientsAreCommitted() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID acme = client(dsl, 1, "Acme");
            UUID beta = client(dsl, 2, "Beta");
            f.leads(acme, f.campaign(acme, 1), 1, 2);
            f.leads(beta, f.campaign(beta, 1), 1, 2);
            f.recount();
            db.sql("CREATE FUNCTION test_cancel_groups() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                    + "   IF (SELECT count(DISTINCT client_id) FROM changed) > 1 THEN"
                    + "     RAISE EXCEPTION 'test: canceling statement' USING ERRCODE = 'query_canceled';"
                    + "   END IF;"
                    + "   RETURN NULL;"
                    + " END $$;"
                    + " CREATE TRIGGER test_cancel_groups AFTER UPDATE ON leads REFERENCING NEW TABLE AS changed"
                    + " FOR EACH STATEMENT EXECUTE FUNCTION test_cancel_groups();");
            begin(dsl, INVOCATION, 100, false);

            assertThatThrownBy(() -> call(dsl, INVOCATION, 60_000)).hasMessageContaining("test: canceling statement")
                    .satisfies(e -> assertThat(DbErrors.describe(e)).contains("SQLSTATE 57014"));

            assertThat(Query.value(dsl, String.class, "SELECT string_agg(status || ' ' || leads_de_enrolled, ','"
                    + " ORDER BY client_id) FROM de_enrollment_runs WHERE invocation_id = ?", INVOCATION))
                    .as("both clients done, client by client, and committed").isEqualTo("success 2,success 2");
            assertThat(call(dsl, INVOCATION, 60_000)).isEqualTo("done");
            assertThat(f.eligible()).isZero();
            assertThat(f.drift()).isZero();
        }
    }

    /**
     * A conflict that persists on the second client of a transaction must fail that client, not the first
     * one: the transaction commits the clients before it and tries it again as the first, so the client in
     * flight, which the engine fails after its attempts, is the one that raised. Acme's leads stay de-enrolled.
     * A cancel (57014: a statement timeout, or a host trigger's) too, although PL/pgSQL's OTHERS does not catch it.
     */
    @ParameterizedTest
    @CsvSource({"lock_not_available, 55P03", "query_canceled, 57014"})
    void aConflictOfTheSecondClientOfATransactionFailsThatClientNotTheFirst(String condition, String sqlState) {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID acme = client(dsl, 1, "Acme");
            UUID beta = client(dsl, 2, "Beta");
            f.leads(acme, f.campaign(acme, 1), 1, 3);
            f.leads(beta, f.campaign(beta, 1), 1, 3);
            f.recount();
            db.sql("CREATE FUNCTION test_beta_loses() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                    + "   IF NEW.client_id = '" + beta + "' THEN"
                    + "     RAISE EXCEPTION 'test: Beta lost a race' USING ERRCODE = '" + condition + "';"
                    + "   END IF;"
                    + "   RETURN NEW;"
                    + " END $$;"
                    + " CREATE TRIGGER test_beta_loses BEFORE UPDATE ON leads FOR EACH ROW EXECUTE FUNCTION test_beta_loses();");

            Invocation inv = Engine.on(db.db(), AlertSink.NONE, Clock.systemUTC(), new StopSignal())
                    .run(new RunRequest(Optional.empty(), RunType.SCHEDULED, 100, Duration.ofMinutes(2),
                            Duration.ofSeconds(90), false, false));

            assertThat(inv.clients()).extracting(c -> c.clientName() + " " + c.status() + " " + c.counts().deEnrolled())
                    .containsExactly("Acme SUCCESS 3", "Beta FAILED 0");
            assertThat(inv.clients().get(1).error()).contains(sqlState).contains("Beta lost a race");
            assertThat(inv.status()).isEqualTo(InvocationStatus.FAILED);
            assertThat(Query.value(dsl, Integer.class, "SELECT count(*)::int FROM de_enrollment_eligible_leads WHERE client_id = ?",
                    acme)).isZero();
            assertThat(Query.value(dsl, Integer.class, "SELECT count(*)::int FROM de_enrollment_eligible_leads WHERE client_id = ?",
                    beta)).as("Beta's leads, left for the next run").isEqualTo(3);
            assertThat(f.drift()).isZero();
        }
    }

    /**
     * Whether another invocation is on a client is read from the running runs by client
     * (de_enrollment_runs_client_running_idx), not from the client's whole run history.
     */
    @Test
    void theLookForAnotherInvocationsRunningRunReadsOnlyRunningRuns() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            UUID acme = client(dsl, 1, "Acme");
            db.sql("INSERT INTO de_enrollment_runs (id, invocation_id, client_id, run_at, run_type, status, budget_ms,"
                    + " finished_at) SELECT md5('r' || g)::uuid, md5('i' || g)::uuid, '" + acme + "',"
                    + " now() - g * interval '15 minutes', 'scheduled', 'success', 300000, now() - g * interval '15 minutes'"
                    + " FROM generate_series(1, 5000) AS g; ANALYZE de_enrollment_runs");

            String plan = Query.value(dsl, String.class, "EXPLAIN (FORMAT JSON) SELECT 1 FROM de_enrollment_runs AS o"
                    + " WHERE o.client_id = ? AND o.status = 'running' AND o.invocation_id IS DISTINCT FROM ?",
                    acme, INVOCATION);

            assertThat(plan).contains("de_enrollment_runs_client_running_idx");
        }
    }

    private static int leadsLoggedTwice(DSLContext dsl) {
        return Query.value(dsl, Integer.class, "SELECT count(*)::int FROM (SELECT lead_id FROM de_enrollment_lead_log"
                + " GROUP BY lead_id HAVING count(*) > 1) AS t");
    }

    /** Records how many leads each UPDATE statement changed: a group updates all of its leads with one. */
    private static void recordLeadUpdates(TestDatabase db) {
        db.sql("CREATE TABLE test_lead_updates (seq serial, n integer);"
                + " CREATE FUNCTION test_count_updates() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                + "   INSERT INTO test_lead_updates (n) SELECT count(*) FROM changed;"
                + "   RETURN NULL;"
                + " END $$;"
                + " CREATE TRIGGER test_count_updates AFTER UPDATE ON leads REFERENCING NEW TABLE AS changed"
                + " FOR EACH STATEMENT EXECUTE FUNCTION test_count_updates();");
    }

    private static String leadUpdates(DSLContext dsl) {
        return Query.value(dsl, String.class, "SELECT string_agg(n::text, ',' ORDER BY seq) FROM test_lead_updates");
    }
}
