package deenroll.pooler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import deenroll.faults.ChildRun;
import deenroll.faults.FaultData;
import deenroll.faults.Invariants;
import deenroll.support.Cli;
import deenroll.support.PgBouncer;
import deenroll.support.PgBouncer.IgnoredStartupParameters;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The job behind a real PgBouncer in transaction mode (DESIGN §4: it must behave
 * the same directly and behind a transaction pooler), once for each
 * {@code ignore_startup_parameters} a deployment has: without {@code options}
 * PgBouncer refuses a login that sends it; with it, PgBouncer drops it. Either
 * way each transaction may run on another server connection, so the job can
 * keep nothing in a session: no advisory lock, no named prepared statement, no
 * SET. The suite's own checks (Invariants, the run rows) read the database
 * directly.
 */
class PgBouncerTest {

    /** Finished leads per client in the four-runner scenario; the issue had 4000. */
    private static final int LEADS_PER_CLIENT = Integer.getInteger("deenroll.pooler.leads", 1500);
    private static final int LEASE_MS = 3000;
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest(name = "{0}")
    @EnumSource(IgnoredStartupParameters.class)
    void connectionsGoThroughThePoolerInTransactionMode(IgnoredStartupParameters ignored) throws Exception {
        try (PgBouncer bouncer = PgBouncer.start(2, ignored); TestDatabase db = TestPostgres.get().migrated()) {
            List<Connection> clients = new ArrayList<>();
            try {
                Set<Integer> backends = new HashSet<>();
                for (int i = 0; i < 5; i++) {
                    Connection c = DriverManager.getConnection(bouncer.jdbcUrl(db) + "&ApplicationName=deenroll-probe");
                    clients.add(c);
                    try (Statement s = c.createStatement();
                         ResultSet rs = s.executeQuery("SELECT 1, current_database(), pg_backend_pid(), current_setting('application_name')")) {
                        rs.next();
                        assertThat(rs.getInt(1)).isEqualTo(1);
                        assertThat(rs.getString(2)).isEqualTo(db.name());
                        backends.add(rs.getInt(3));
                        // PgBouncer 1.18 tracks application_name and sets it on the server connection it lends
                        assertThat(rs.getString(4)).isEqualTo("deenroll-probe");
                    }
                }
                // five clients held open at once share the two server connections: transaction pooling
                assertThat(backends).as("server backends behind 5 open clients").hasSizeBetween(1, 2);
                int named = count(db, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        + " AND application_name = 'deenroll-probe'");
                assertThat(named).as("server connections named as their last client named itself (what pg_terminate_backend"
                        + " scenarios look for)").isBetween(1, 2);
            } finally {
                for (Connection c : clients) {
                    c.close();
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(IgnoredStartupParameters.class)
    void aPlainRunThroughThePoolerDeEnrollsEverything(IgnoredStartupParameters ignored) throws Exception {
        try (PgBouncer bouncer = PgBouncer.start(2, ignored); TestDatabase db = TestPostgres.get().migrated()) {
            FaultData data = FaultData.create(db, 3, 30);
            Cli.Result result = Cli.run(env(bouncer, db), "run", "--output", "json");
            assertThat(result.exitCode()).as("exit code of a run through PgBouncer\n" + printed(result)).isZero();
            assertThat(result.out() + result.err()).doesNotContain("prepared statement").doesNotContain("42P05");
            assertThat(Invariants.deEnrolled(db)).isEqualTo(data.eligibleAtStart);
            assertThat(Invariants.check(db, true)).as("invariants after a run through PgBouncer").isEmpty();
        }
    }

    /**
     * Long enough (batches of one, a few seconds, a heartbeat every half second)
     * that every statement the job repeats runs more than five times on the same
     * client connection: pgjdbc's default prepareThreshold then makes it a named
     * server-side statement (S_1, …), which lives on one server connection of the
     * pooler's and collides with another client's S_1 there (42P05) or is missing
     * on the next (26000).
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(IgnoredStartupParameters.class)
    void aLongRunOfSmallBatchesKeepsNoStatementOnTheServer(IgnoredStartupParameters ignored) throws Exception {
        try (PgBouncer bouncer = PgBouncer.start(2, ignored); TestDatabase db = TestPostgres.get().migrated()) {
            FaultData data = FaultData.create(db, 4, 1000);
            Cli.Result result = Cli.run(env(bouncer, db, Map.of("DE_ENROLLMENT_LEASE", String.valueOf(LEASE_MS))),
                    "run", "--batch-size", "1", "--output", "json");
            assertThat(result.exitCode()).as("exit code of a long run through PgBouncer\n" + printed(result)).isZero();
            assertThat(result.out() + result.err()).doesNotContain("prepared statement").doesNotContain("42P05");
            assertThat(Invariants.deEnrolled(db)).isEqualTo(data.eligibleAtStart);
            assertThat(Invariants.check(db, true)).as("invariants after a long run through PgBouncer").isEmpty();
        }
    }

    /**
     * The scenario: four scheduled runs started half a second apart
     * behind a pool of two server connections. They are child JVMs, not threads
     * of this one, because that is what the scheduler starts: each has its own
     * pid (which the run rows record and liveness is about), its own driver and
     * pool, and its own connections to PgBouncer.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(IgnoredStartupParameters.class)
    void fourRunnersStartedHalfASecondApartBehindAPoolOfTwo(IgnoredStartupParameters ignored) throws Exception {
        int rounds = 3;
        int invocations = 0;
        long deEnrolled = 0;
        long runningMs = 0;
        try (PgBouncer bouncer = PgBouncer.start(2, ignored)) {
            for (int round = 1; round <= rounds; round++) {
                try (TestDatabase db = TestPostgres.get().migrated()) {
                    // FaultData's leads count is per campaign, and each client has three
                    FaultData data = FaultData.create(db, 20, Math.max(1, LEADS_PER_CLIENT / 3));
                    List<String> problems = new ArrayList<>();
                    List<ChildRun> runners = new ArrayList<>();
                    long started = System.nanoTime();
                    try {
                        for (int i = 0; i < 4; i++) {
                            if (i > 0) {
                                Thread.sleep(500);
                            }
                            runners.add(ChildRun.start(bouncer.jdbcUrl(db), Map.of(), "run", "--output", "json"));
                        }
                        for (int i = 0; i < runners.size(); i++) {
                            // a run stops by its budget (4 minutes by default): one still going after 5 is hung
                            int exit = runners.get(i).waitFor(300);
                            String output = runners.get(i).output();
                            invocations++;
                            if (exit != 0 || output.contains("prepared statement") || output.contains("42P05")) {
                                problems.add("round " + round + ", runner " + (i + 1) + ": "
                                        + (exit == -1 ? "still running after 300 s" : "exit " + exit) + "\n" + output);
                            }
                        }
                    } finally {
                        runners.forEach(ChildRun::close);
                    }
                    runningMs += TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                    int failed = count(db, "SELECT count(*) FROM de_enrollment_runs WHERE status = 'failed'");
                    int abandoned = count(db, "SELECT count(*) FROM de_enrollment_runs WHERE error_details LIKE 'abandoned%'");
                    if (failed + abandoned > 0) {
                        problems.add("round " + round + ": " + failed + " failed run(s), " + abandoned + " closed as abandoned: "
                                + db.db().dsl().fetch("SELECT client_id, status, error_details FROM de_enrollment_runs"
                                        + " WHERE status = 'failed' OR error_details LIKE 'abandoned%'").formatCSV(false));
                    }
                    String where = "round " + round + ": ";
                    Invariants.check(db, true).forEach(a -> problems.add(where + a));
                    int done = Invariants.deEnrolled(db);
                    if (done != data.eligibleAtStart) {
                        problems.add(where + done + " leads de-enrolled of " + data.eligibleAtStart + " eligible");
                    }
                    deEnrolled += done;
                    assertThat(problems).as("4 runners through PgBouncer (" + ignored + "), round " + round).isEmpty();
                }
            }
        }
        System.out.printf("pgbouncer (%s, pool 2): %d rounds x 4 runners, %d invocations exit 0 in %d ms, %d leads"
                + " de-enrolled, 0 failed or abandoned runs, 0 prepared-statement errors, 0 anomalies%n",
                ignored, rounds, invocations, runningMs, deEnrolled);
    }

    /**
     * SIGKILL behind the pooler. There is no session whose end would tell the
     * next invocation that the killed one is gone, only its heartbeat: the
     * killed invocation is alive (listed by `status`) until its lease has
     * passed, and then the next run closes its open run as abandoned.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(IgnoredStartupParameters.class)
    void sigkillBehindThePoolerIsAbandonedOnceTheLeaseHasPassed(IgnoredStartupParameters ignored) throws Exception {
        try (PgBouncer bouncer = PgBouncer.start(2, ignored); TestDatabase db = TestPostgres.get().migrated()) {
            // 12,000 leads: a few seconds of batches of one, so the kill lands mid-run
            FaultData.create(db, 4, 1000);
            Map<String, String> lease = Map.of("DE_ENROLLMENT_LEASE", String.valueOf(LEASE_MS));
            String killed;
            long killedAt;
            try (ChildRun child = ChildRun.start(bouncer.jdbcUrl(db), lease, "run", "--batch-size", "1")) {
                killed = awaitARunningRun(db, child);
                child.kill();
                killedAt = System.nanoTime();
                child.waitFor(30);
            }

            Cli.Result before = Cli.run(env(bouncer, db, lease), "status", "--output", "json");
            long statusMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
            assertThat(before.exitCode()).as("status right after the kill\n" + printed(before)).isZero();
            assertThat(statusMs).as("status must answer within the lease for this check to mean anything").isLessThan(LEASE_MS);
            assertThat(invocationIds(before)).as("invocations listed %d ms after the kill, before its lease ran out", statusMs)
                    .contains(killed);

            Thread.sleep(Math.max(0, LEASE_MS + 700 - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt)));
            Cli.Result run = Cli.run(env(bouncer, db, lease), "run", "--output", "json");
            assertThat(run.exitCode()).as("the run after the lease\n" + printed(run)).isZero();
            // its backend may have gone on for the rest of its slice after the kill, and finished a run or started
            // the next: every run of it is closed, the open one(s) as abandoned, none failed for another reason
            String runsOfKilled = "FROM de_enrollment_runs WHERE invocation_id = '" + killed + "'";
            assertThat(count(db, "SELECT count(*) " + runsOfKilled + " AND status = 'failed' AND error_details LIKE 'abandoned:%'"))
                    .as("runs of the killed invocation closed as abandoned").isPositive();
            assertThat(db.db().dsl().fetch("SELECT status, error_details " + runsOfKilled
                    + " AND NOT (status IN ('success', 'partial') OR status = 'failed' AND error_details LIKE 'abandoned:%')"))
                    .as("runs of the killed invocation left open or failed otherwise").isEmpty();

            Cli.Result after = Cli.run(env(bouncer, db, lease), "status", "--output", "json");
            assertThat(after.exitCode()).as("status after the run\n" + printed(after)).isZero();
            assertThat(invocationIds(after)).as("invocations listed once the killed one was declared dead")
                    .doesNotContain(killed);
            assertThat(Invariants.check(db, true)).as("invariants after SIGKILL behind PgBouncer").isEmpty();
        }
    }

    /** Waits until the child has a run in flight and returns its invocation id; fails if the child exits first. */
    private static String awaitARunningRun(TestDatabase db, ChildRun child) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            String invocation = text(db, "SELECT min(invocation_id::text) FROM de_enrollment_runs WHERE status = 'running'");
            if (invocation != null) {
                return invocation;
            }
            int exit = child.waitFor(0);
            assertThat(exit).as("the child exited before it started a run:\n" + child.output()).isEqualTo(-1);
            assertThat(System.nanoTime()).as("no run row after 60 s:\n" + child.output()).isLessThan(until);
            Thread.sleep(20);
        }
    }

    private static List<String> invocationIds(Cli.Result status) throws Exception {
        JsonNode report = JSON.readTree(status.out());
        assertThat(report.has("invocations")).as("status --output json:\n" + status.out()).isTrue();
        List<String> ids = new ArrayList<>();
        report.get("invocations").forEach(i -> ids.add(i.path("invocationId").asText()));
        return ids;
    }

    /** Both streams: with --output json the report on stdout holds each client's error. */
    private static String printed(Cli.Result result) {
        return "stdout:\n" + result.out() + "\nstderr:\n" + result.err();
    }

    private static Map<String, String> env(PgBouncer bouncer, TestDatabase db) {
        return env(bouncer, db, Map.of());
    }

    private static Map<String, String> env(PgBouncer bouncer, TestDatabase db, Map<String, String> extra) {
        Map<String, String> env = new HashMap<>(extra);
        env.put("DATABASE_URL", bouncer.jdbcUrl(db));
        return env;
    }

    /** Read directly, not through the pooler. */
    private static int count(TestDatabase db, String sql) throws SQLException {
        return Integer.parseInt(text(db, sql));
    }

    /** Read directly, not through the pooler. */
    private static String text(TestDatabase db, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(db.jdbcUrl()); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
