package deenroll.faults;

import com.zaxxer.hikari.HikariDataSource;
import deenroll.support.Cli;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Exactly-once under concurrency, crashes and bad input (DESIGN §4): each
 * scenario runs against its own database, then a clean run, then the
 * invariants. The default build runs one trial per scenario;
 * {@code -Pfaults-long} (or {@code -Ddeenroll.faults.trials=N}) runs more, with
 * other seeds. Every scenario runs twice: with its invocations connected
 * directly, and through a PgBouncer in transaction mode ({@link Target}; skipped
 * where there is no pgbouncer). A summary (scenarios, trials, leads, anomalies)
 * is printed and appended to target/fault-injection-summary.txt.
 */
@Tag("compat")
@Tag("faults")
class FaultInjectionTest {

    private static final int TRIALS = Integer.getInteger("deenroll.faults.trials", 1);
    private static final long SEED = Long.getLong("deenroll.faults.seed", 20261129L);

    private static final Map<String, AtomicInteger> TRIALS_RUN = new java.util.concurrent.ConcurrentSkipListMap<>();
    private static final AtomicLong LEADS = new AtomicLong();
    private static final AtomicInteger ANOMALIES = new AtomicInteger();
    /** The heartbeat lease of the killed children: without a session to end, a dead invocation is one whose heartbeat is older. */
    private static final int LEASE_MS = 3000;

    static Stream<Arguments> runnersOnEachTarget() {
        return Stream.of(Target.values()).flatMap(t -> Stream.of(2, 4, 8).map(n -> Arguments.of(t, n)));
    }

    @ParameterizedTest(name = "{0}: {1} runners at once on the same clients")
    @MethodSource("runnersOnEachTarget")
    void concurrentRunnersOnTheSameClients(Target target, int runners) throws Exception {
        target.assume();
        for (int trial = 0; trial < TRIALS; trial++) {
            try (TestDatabase db = TestPostgres.get().migrated()) {
                FaultData.create(db, 4, 40);
                List<Cli.Result> results = together(runners, i -> Cli.run(target.env(db), "run", "--batch-size", "3"));
                results.forEach(r -> assertThat(r.exitCode()).as(r.err()).isIn(0));
                finish(target, "concurrent runners x" + runners, db, true);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Target.class)
    void runnersPerClientAndOneStartedMidRun(Target target) throws Exception {
        target.assume();
        for (int trial = 0; trial < TRIALS; trial++) {
            Random random = new Random(SEED + trial);
            try (TestDatabase db = TestPostgres.get().migrated()) {
                FaultData data = FaultData.create(db, 4, 40);
                List<Cli.Result> results = together(data.clients.size() + 1, i -> {
                    if (i == data.clients.size()) {
                        Thread.sleep(50 + random.nextInt(200)); // joins while the others are mid-run
                        return Cli.run(target.env(db), "run", "--batch-size", "2");
                    }
                    return Cli.run(target.env(db), "run", "--client-id", data.clients.get(i).toString(), "--batch-size", "2");
                });
                results.forEach(r -> assertThat(r.exitCode()).as(r.err()).isZero());
                finish(target, "runners per client + one mid-run", db, true);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Target.class)
    void sigkillAtRandomPointsThenANormalRun(Target target) throws Exception {
        target.assume();
        for (int trial = 0; trial < TRIALS; trial++) {
            Random random = new Random(SEED + 100 + trial);
            try (TestDatabase db = TestPostgres.get().migrated()) {
                FaultData.create(db, 3, 60);
                Map<String, String> lease = Map.of("DE_ENROLLMENT_LEASE", String.valueOf(LEASE_MS));
                for (int kill = 0; kill < 3; kill++) {
                    try (ChildRun child = ChildRun.start(target.url(db), lease, "run", "--batch-size", "2")) {
                        Thread.sleep(300 + random.nextInt(1500));
                        child.kill();
                        child.waitFor(30);
                    }
                }
                // so that the clean run finds the killed invocations dead and closes their runs as abandoned
                Thread.sleep(LEASE_MS + 500);
                finish(target, "SIGKILL at random points", db, true);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Target.class)
    void sigtermFinishesTheBatchClosesThePartialRunAndExits(Target target) throws Exception {
        target.assume();
        for (int trial = 0; trial < TRIALS; trial++) {
            Random random = new Random(SEED + 200 + trial);
            try (TestDatabase db = TestPostgres.get().migrated()) {
                FaultData.create(db, 3, 80);
                try (ChildRun child = ChildRun.start(target.url(db), Map.of(), "run", "--batch-size", "1")) {
                    // a signal before the JVM has started working just ends it (143): wait for the first run row
                    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    while (db.db().dsl().fetchCount(db.db().dsl().selectFrom("de_enrollment_runs")) == 0
                            && child.waitFor(0) == -1 && System.nanoTime() < until) {
                        Thread.sleep(20);
                    }
                    Thread.sleep(random.nextInt(300));
                    child.terminate();
                    int exit = child.waitFor(60);
                    assertThat(exit).as("exit code after SIGTERM (-1: still running after 60 s)\n" + child.output()).isIn(0, 3);
                    int partial = db.db().dsl().fetchCount(db.db().dsl().selectFrom("de_enrollment_runs").where("status = 'partial'"));
                    int running = db.db().dsl().fetchCount(db.db().dsl().selectFrom("de_enrollment_runs").where("status = 'running'"));
                    int eligible = db.db().dsl().fetchCount(db.db().dsl().selectFrom("de_enrollment_eligible_leads"));
                    assertThat(running).as("runs left running by a stopped process").isZero();
                    assertThat(partial).as("only the run in flight can be cut short").isLessThanOrEqualTo(1);
                    // 3 = stopped with work left: the run in flight closed as partial, or clients not started
                    assertThat(eligible > 0).as("leads left eligible after exit %d (partial runs: %d)\n%s", exit, partial,
                            child.output()).isEqualTo(exit == 3);
                }
                finish(target, "SIGTERM", db, true);
            }
        }
    }

    /**
     * Through PgBouncer the killer finds the server connections by the name too:
     * PgBouncer 1.18 sets each client's application_name on the server connection it lends.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Target.class)
    void connectionsTerminatedMidRun(Target target) throws Exception {
        target.assume();
        for (int trial = 0; trial < TRIALS; trial++) {
            Random random = new Random(SEED + 300 + trial);
            try (TestDatabase db = TestPostgres.get().migrated()) {
                FaultData.create(db, 4, 50);
                AtomicBoolean running = new AtomicBoolean(true);
                AtomicInteger terminated = new AtomicInteger();
                Thread killer = new Thread(() -> {
                    try (Connection c = DriverManager.getConnection(db.jdbcUrl()); Statement s = c.createStatement()) {
                        while (running.get()) {
                            Thread.sleep(40 + random.nextInt(120));
                            try (var rs = s.executeQuery("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                                    + " WHERE application_name = 'deenroll' AND datname = current_database() AND pid <> pg_backend_pid()")) {
                                rs.next();
                                terminated.addAndGet(rs.getInt(1));
                            }
                        }
                    } catch (SQLException | InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
                killer.start();
                List<Cli.Result> results = together(2, i -> Cli.run(target.env(db), "run", "--batch-size", "2"));
                running.set(false);
                killer.join();
                // the killer also ends idle connections of this test's own pool (they are named
                // deenroll too); a killed one handed out again would fail the invariant checks
                ((HikariDataSource) db.db().dataSource()).getHikariPoolMXBean().softEvictConnections();
                // a client may fail once its retries are spent; a later run finishes the work
                results.forEach(r -> assertThat(r.exitCode()).as(r.err()).isIn(0, 1, 4));
                assertThat(terminated.get()).as("backends terminated").isPositive();
                finish(target, "pg_terminate_backend mid-run", db, true);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Target.class)
    void statementTimeoutWhileTheHostHoldsACampaignLock(Target target) throws Exception {
        target.assume();
        try (TestDatabase db = TestPostgres.get().migrated()) {
            FaultData data = FaultData.create(db, 2, 30);
            try (Connection host = DriverManager.getConnection(db.jdbcUrl()); Statement s = host.createStatement()) {
                host.setAutoCommit(false);
                s.execute("SELECT 1 FROM campaigns WHERE id = '" + data.campaigns.get(0) + "' FOR UPDATE");
                // bounded: a statement timeout that never reaches the server (a pooler drops the startup
                // `options`) leaves the run waiting for the lock for as long as the host holds it
                ExecutorService pool = Executors.newSingleThreadExecutor();
                try {
                    Future<Cli.Result> run = pool.submit(() -> Cli.run(target.env(db), "run", "--statement-timeout", "1000"));
                    Cli.Result blocked;
                    try {
                        blocked = run.get(60, TimeUnit.SECONDS);
                    } catch (TimeoutException e) {
                        throw new AssertionError("the run still waits for the locked campaign after 60 s:"
                                + " its statement timeout did not reach the server", e);
                    } finally {
                        host.rollback(); // the host lets go, so a run still waiting finishes
                    }
                    assertThat(blocked.exitCode()).as("the client whose campaign is locked fails; " + blocked.err()).isEqualTo(1);
                } finally {
                    pool.shutdown();
                    pool.awaitTermination(5, TimeUnit.MINUTES);
                }
            }
            finish(target, "statement timeout on a locked campaign", db, true);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Target.class)
    void poisonLeadsFailAloneAndTheRestIsDeEnrolled(Target target) throws Exception {
        target.assume();
        try (TestDatabase db = TestPostgres.get().migrated()) {
            FaultData.create(db, 2, 30);
            db.sql("UPDATE leads SET first_name = 'poison' WHERE id IN (SELECT lead_id FROM de_enrollment_eligible_leads"
                    + " ORDER BY lead_id LIMIT 7)");
            db.sql("CREATE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                    + " IF NEW.first_name = 'poison' AND NEW.completed_at IS NOT NULL THEN RAISE EXCEPTION 'host trigger refuses lead %', NEW.id; END IF;"
                    + " RETURN NEW; END $$;"
                    + " CREATE TRIGGER test_poison BEFORE UPDATE ON leads FOR EACH ROW EXECUTE FUNCTION test_poison();");
            Cli.Result result = Cli.run(target.env(db), "run", "--batch-size", "5");
            assertThat(result.exitCode()).as(result.err()).isZero();
            int errors = db.db().dsl().fetchCount(db.db().dsl().selectFrom("de_enrollment_lead_log").where("action = 'error'"));
            assertThat(errors).as("one error row per poison lead, tried once in the run").isEqualTo(7);
            // only poison leads left: each client's run tries them all and de-enrolls none, so it has failed
            Cli.Result onlyPoison = Cli.run(target.env(db), "run");
            assertThat(onlyPoison.exitCode()).as(onlyPoison.err()).isEqualTo(1);
            // the host fixes its trigger: the clean run de-enrolls them
            db.sql("DROP TRIGGER test_poison ON leads");
            finish(target, "poison leads", db, true);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Target.class)
    void hostWritesWhileRunsAreInFlight(Target target) throws Exception {
        target.assume();
        for (int trial = 0; trial < TRIALS; trial++) {
            try (TestDatabase db = TestPostgres.get().migrated()) {
                FaultData data = FaultData.create(db, 3, 40);
                HostWriter host = new HostWriter(db, data, SEED + 400 + trial, 400);
                Thread hostThread = new Thread(host);
                hostThread.start();
                AtomicBoolean hostDone = new AtomicBoolean();
                List<Cli.Result> results = together(2, i -> {
                    Cli.Result last = null;
                    while (!hostDone.get() && hostThread.isAlive()) {
                        last = Cli.run(target.env(db), "run", "--batch-size", "3");
                        if (last.exitCode() != 0) {
                            return last;
                        }
                    }
                    return last == null ? Cli.run(target.env(db), "run") : last;
                });
                hostThread.join();
                hostDone.set(true);
                results.forEach(r -> assertThat(r.exitCode()).as(r.err()).isZero());
                assertThat(host.done.get()).as("host operations committed").isPositive();
                finish(target, "host writes during runs", db, true);
            }
        }
    }

    @AfterAll
    static void stopPgBouncer() {
        Target.stopPgBouncer();
    }

    @AfterAll
    static void summary() throws IOException {
        int trials = TRIALS_RUN.values().stream().mapToInt(AtomicInteger::get).sum();
        StringBuilder text = new StringBuilder("fault injection: ").append(TRIALS_RUN.size()).append(" scenarios, ")
                .append(trials).append(" trials, ").append(LEADS.get()).append(" leads de-enrolled, ")
                .append(ANOMALIES.get()).append(" anomalies (seed ").append(SEED).append(")\n");
        TRIALS_RUN.forEach((name, n) -> text.append("  ").append(name).append(": ").append(n.get()).append(" trial(s)\n"));
        String binaries = System.getProperty("deenroll.test.pg.binaries", "");
        text.insert(0, "PostgreSQL binaries: " + (binaries.isBlank() ? "default (classpath)" : Path.of(binaries).getFileName()) + "\n");
        System.out.print(text);
        // one file for all executions of the build (default, oldest, newest PostgreSQL)
        Files.writeString(Path.of("target", "fault-injection-summary.txt"), text, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** A clean run (through the same target), then the invariants; anomalies fail the test and count in the summary. */
    private static void finish(Target target, String name, TestDatabase db, boolean expectNothingEligible) {
        String scenario = name + " [" + target + "]";
        Cli.Result clean = Cli.run(target.env(db), "run");
        assertThat(clean.exitCode()).as("the clean run after " + scenario + ": " + clean.err()).isZero();
        List<String> anomalies = Invariants.check(db, expectNothingEligible);
        TRIALS_RUN.computeIfAbsent(scenario, k -> new AtomicInteger()).incrementAndGet();
        LEADS.addAndGet(Invariants.deEnrolled(db));
        ANOMALIES.addAndGet(anomalies.size());
        assertThat(anomalies).as("invariants after " + scenario).isEmpty();
    }

    interface Runner {
        Cli.Result run(int index) throws Exception;
    }

    /** Starts {@code n} runners at the same moment and waits for all of them. */
    private static List<Cli.Result> together(int n, Runner runner) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Cli.Result>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int index = i;
                Callable<Cli.Result> task = () -> {
                    start.await();
                    return runner.run(index);
                };
                futures.add(pool.submit(task));
            }
            start.countDown();
            List<Cli.Result> results = new ArrayList<>();
            for (Future<Cli.Result> f : futures) {
                results.add(f.get(5, TimeUnit.MINUTES));
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

}
