package deenroll.engine;

import deenroll.config.DatabaseTarget;
import deenroll.db.Database;
import deenroll.db.Migrator;
import deenroll.faults.ChildRun;
import deenroll.support.Fixtures;
import deenroll.support.TestPostgres;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.util.LinuxUtils;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * DESIGN §4 "connection loss is retried within the remaining budget": the
 * PostgreSQL server of a run in flight crashes (pg_ctl stop -m immediate: no
 * checkpoint, every backend killed, in-flight transactions lost) and is back a
 * minute later on the same port. The run waits it out, logging each wait, and
 * finishes the work: exit 0, no run failed, nothing left eligible, each lead
 * de-enrolled exactly once, counters exact.
 *
 * The test has a server of its own (zonky, as the suite's embedded one, but
 * with synchronous_commit on, so a commit the run was told of survives the
 * crash as it does in production). As root, zonky runs PostgreSQL in a user
 * namespace of its own (unshare -U), since PostgreSQL refuses to run as root;
 * pg_ctl is run the same way. About 80 s, most of it the minute of outage.
 *
 * The same with the batches committed asynchronously (docs/deploy.md, "Durability of
 * the batches": {@code synchronous_commit = off} for the tool's role): the server crashes
 * right after batches whose commits were reported but not yet written, so they are lost;
 * the run redoes them, exactly once, and the invariants hold.
 */
class ServerOutageTest {

    private static final int CLIENTS = 3;
    /** About 5 s of batches of one on our machines, without the outage: the crash lands well inside the run. */
    private static final int LEADS_PER_CLIENT = 3000;
    private static final int ELIGIBLE = CLIENTS * LEADS_PER_CLIENT;
    private static final Duration OUTAGE = Duration.ofSeconds(60);
    /** Server settings, given to zonky at the first start and to pg_ctl at the restart. */
    private static final Map<String, String> SERVER_CONFIG = new LinkedHashMap<>();

    static {
        SERVER_CONFIG.put("fsync", "off"); // a crash of the server, not of the machine: nothing needs to reach the disk
        SERVER_CONFIG.put("synchronous_commit", "on");
        SERVER_CONFIG.put("full_page_writes", "off");
        SERVER_CONFIG.put("max_connections", "50");
        SERVER_CONFIG.put("timezone", "UTC");
    }

    @Test
    void aRunWaitsOutAServerCrashAndRestartAndFinishesTheWork() throws Exception {
        Path dataDirectory = Files.createTempDirectory("deenroll-outage-pg-");
        Path serverLog = Files.createTempFile("deenroll-outage-pg-", ".log");
        try (EmbeddedPostgres server = start(dataDirectory, SERVER_CONFIG)) {
            int port = server.getPort();
            String url = createDatabase(port);
            Path pgCtl = pgCtl(dataDirectory);

            long started = System.nanoTime();
            try (ChildRun child = ChildRun.start(url, Map.of(), "run", "--batch-size", "1", "--max-runtime", "180000",
                    "--output", "json")) {
                int before = waitForDeEnrolled(url, child, 300);
                long workedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

                OffsetDateTime crashedAt = OffsetDateTime.now();
                pgCtl(pgCtl, "stop", "-D", dataDirectory.toString(), "-m", "immediate", "-w");
                assertThat(before).as("leads de-enrolled before the crash, of %d", ELIGIBLE).isLessThan(ELIGIBLE / 2);
                assertThat(child.waitFor(OUTAGE.toSeconds())).as("exit code of the run during the outage (-1: still running)")
                        .isEqualTo(-1);
                pgCtl(pgCtl, "start", "-D", dataDirectory.toString(), "-w", "-t", "60", "-l", serverLog.toString(),
                        "-o", serverOptions(port));
                OffsetDateTime restartedAt = OffsetDateTime.now();
                int exit = child.waitFor(240);
                String output = child.output();
                long totalMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

                assertThat(exit).as("exit code of the run; %d de-enrolled in %d ms before the crash, %d ms in all;"
                        + " output:%n%s", before, workedMs, totalMs, output).isZero();
                assertThat(output).as("the run's stderr: waits logged while the server was away")
                        .contains("database unreachable").contains("retrying in");
                assertThat(output).as("the run's stderr").doesNotContain("giving up");
                assertThat(EngineTestKit.json(report(output)).get("status").asText()).isEqualTo("success");
                try (Database db = open(url)) {
                    DSLContext dsl = db.dsl();
                    assertThat(anomalies(dsl)).as("invariants after the outage; run output:%n%s", output).isEmpty();
                    // the run in flight at the crash was carried on after the restart, not failed nor started again
                    assertThat(dsl.fetchCount(DSL.selectFrom("de_enrollment_runs").where("run_at < {0} AND finished_at > {1}"
                            + " AND status = 'success'", DSL.val(crashedAt), DSL.val(restartedAt))))
                            .as("runs started before the crash and closed after the restart").isEqualTo(1);
                    assertThat(count(dsl, "SELECT count(*) FROM de_enrollment_lead_log WHERE processed_at > '"
                            + restartedAt + "'")).as("leads de-enrolled after the restart").isPositive();
                }
            }
        } finally {
            Files.deleteIfExists(serverLog);
        }
    }

    /**
     * The server crashes right after batches committed with {@code synchronous_commit = off}
     * (set for the tool's role in its database, as docs/deploy.md says) that were not yet
     * written: the WAL writer is stopped (SIGSTOP), so those commits stay in the server's WAL
     * buffers, then killed (SIGKILL), which makes the postmaster reset shared memory and recover
     * from the WAL on disk, as after a crash. The run in flight reconnects and redoes the lost
     * batches, exactly once; the invariants hold.
     */
    @Test
    void batchesLostToACrashWithAsynchronousCommitAreRedoneExactlyOnce() throws Exception {
        Map<String, String> config = new LinkedHashMap<>(SERVER_CONFIG);
        config.put("wal_buffers", "16MB");          // the commits after the stop fit in the buffers
        config.put("bgwriter_lru_maxpages", "0");   // no data page written, so no WAL flushed for one
        config.put("autovacuum", "off");            // nor by a vacuum
        config.put("restart_after_crash", "on");    // the default, which this test relies on
        Path dataDirectory = Files.createTempDirectory("deenroll-async-pg-");
        try (EmbeddedPostgres server = start(dataDirectory, config)) {
            String url = createDatabase(server.getPort());
            // what docs/deploy.md recommends; the server's own default stays on, so the setting itself is durable
            execute(url, "ALTER ROLE postgres IN DATABASE deenroll_outage SET synchronous_commit = off");
            try (ChildRun child = ChildRun.start(url, Map.of(), "run", "--batch-size", "1", "--max-runtime", "180000",
                    "--output", "json")) {
                waitForDeEnrolled(url, child, 300);
                long walWriter = walWriterPid(url);
                signal("STOP", walWriter);
                // batches committed while nothing writes the WAL: reported, visible, only in the server's memory
                int stopped = count(url, "SELECT count(*) FROM de_enrollment_lead_log WHERE action = 'de_enrolled'");
                waitForDeEnrolled(url, child, stopped + 200);
                List<String> seen = leadIds(url);
                OffsetDateTime crashedAt = OffsetDateTime.now();
                signal("KILL", walWriter);

                int exit = child.waitFor(240);
                String output = child.output();
                assertThat(exit).as("exit code of the run; output:%n%s", output).isZero();
                assertThat(output).as("the run's stderr: the crash was waited out").contains("retrying in");
                assertThat(EngineTestKit.json(report(output)).get("status").asText()).isEqualTo("success");
                try (Database db = open(url)) {
                    DSLContext dsl = db.dsl();
                    assertThat(anomalies(dsl)).as("invariants after the crash; run output:%n%s", output).isEmpty();
                    // leads whose de-enrolment was committed (and seen) before the crash, lost with it,
                    // and de-enrolled again after it: the case this setting trades for speed
                    int redone = dsl.fetchCount(DSL.selectFrom("de_enrollment_lead_log").where("action = 'de_enrolled'"
                            + " AND processed_at > {0} AND lead_id = ANY ({1}::uuid[])", DSL.val(crashedAt),
                            DSL.val(seen.toArray(new String[0]))));
                    assertThat(redone).as("leads of the %d seen de-enrolled before the crash that were lost and redone",
                            seen.size()).isPositive();
                }
            }
        }
    }

    /** A server of this test's own on {@code dataDirectory}, with {@code config}. */
    private static EmbeddedPostgres start(Path dataDirectory, Map<String, String> config) throws IOException {
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                .setDataDirectory(dataDirectory)
                .setCleanDataDirectory(true)
                .setPGStartupWait(Duration.ofSeconds(60));
        config.forEach(builder::setServerConfig);
        return builder.start();
    }

    /** The test's database on the server at {@code port}: host schema, migrations, data; its URL. */
    private static String createDatabase(int port) throws SQLException {
        String url = "jdbc:postgresql://localhost:" + port + "/deenroll_outage?user=postgres";
        execute("jdbc:postgresql://localhost:" + port + "/postgres?user=postgres", "CREATE DATABASE deenroll_outage");
        execute(url, TestPostgres.hostSchema());
        try (Database db = open(url)) {
            new Migrator(db.dataSource(), db.dsl()).migrate();
            createData(db.dsl());
        }
        return url;
    }

    private static long walWriterPid(String url) throws SQLException {
        return count(url, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'walwriter'");
    }

    private static void signal(String signal, long pid) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0).as("kill -%s %d", signal, pid).isTrue();
    }

    private static int count(String url, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
             ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getInt(1);
        }
    }

    /** The leads with a de_enrolled log row, as this moment's snapshot sees them. */
    private static List<String> leadIds(String url) throws SQLException {
        List<String> ids = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT lead_id FROM de_enrollment_lead_log WHERE action = 'de_enrolled'")) {
            while (r.next()) {
                ids.add(r.getString(1));
            }
        }
        return ids;
    }

    /**
     * Three clients with {@link #LEADS_PER_CLIENT} finished leads each, and a
     * control group that must come out byte-identical: leads in their sequence,
     * booked or opted out (still in the sequence), stopped by hand.
     */
    private static void createData(DSLContext dsl) {
        Fixtures f = new Fixtures(dsl);
        for (int c = 0; c < CLIENTS; c++) {
            UUID client = f.client("Client " + c);
            UUID campaign = f.campaign(client, 3);
            InvocationKit.bulkLeads(dsl, client, campaign, 3, LEADS_PER_CLIENT);
            for (int i = 0; i < 30; i++) {
                f.lead(client, campaign, i % 3, i % 7 == 0, i % 11 == 0);
            }
            UUID stopped = f.lead(client, campaign, 3);
            dsl.execute("UPDATE leads SET is_active = false WHERE id = {0}", DSL.val(stopped));
        }
        f.recount();
        dsl.execute("CREATE TABLE test_eligible AS SELECT lead_id AS id FROM de_enrollment_eligible_leads");
        dsl.execute("CREATE TABLE test_control AS SELECT l.id, md5(l::text) AS row_hash FROM leads l"
                + " WHERE l.id NOT IN (SELECT id FROM test_eligible)");
        assertThat(count(dsl, "SELECT count(*) FROM test_eligible")).isEqualTo(ELIGIBLE);
    }

    /** DESIGN §4's invariants, each violated one as a line (what faults.Invariants checks, on this server). */
    private static List<String> anomalies(DSLContext dsl) {
        List<String> anomalies = new ArrayList<>();
        add(anomalies, dsl, "SELECT count(*) FROM (SELECT lead_id FROM de_enrollment_lead_log WHERE action = 'de_enrolled'"
                + " GROUP BY lead_id HAVING count(*) > 1) x", "lead(s) with more than one de_enrolled log row");
        add(anomalies, dsl, "SELECT count(*) FROM test_eligible e WHERE NOT EXISTS (SELECT 1 FROM de_enrollment_lead_log g"
                + " WHERE g.lead_id = e.id AND g.action = 'de_enrolled')", "eligible lead(s) without a de_enrolled log row");
        add(anomalies, dsl, "SELECT count(*) FROM leads l JOIN test_eligible e ON e.id = l.id WHERE l.is_active"
                + " OR l.completed_at IS NULL OR jsonb_array_length(l.campaign_history) <> 1",
                "eligible lead(s) not de-enrolled with exactly one history entry");
        add(anomalies, dsl, "SELECT count(*) FROM de_enrollment_lead_log WHERE action <> 'de_enrolled'",
                "lead log row(s) other than de_enrolled (errors, skips)");
        add(anomalies, dsl, "SELECT count(*) FROM de_enrollment_eligible_leads", "lead(s) still eligible");
        add(anomalies, dsl, "SELECT count(*) FROM test_control c JOIN leads l ON l.id = c.id WHERE md5(l::text) <> c.row_hash",
                "non-eligible lead(s) changed");
        if (new Fixtures(dsl).drift() != 0) {
            anomalies.add(new Fixtures(dsl).drift() + " campaign(s) with counter drift");
        }
        add(anomalies, dsl, "SELECT count(*) FROM campaigns WHERE least(active_leads_count, completed_leads_count,"
                + " opted_out_count, booked_count) < 0", "campaign(s) with a negative counter");
        add(anomalies, dsl, "SELECT count(*) FROM de_enrollment_runs WHERE status = 'failed'", "run(s) failed");
        add(anomalies, dsl, "SELECT count(*) FROM de_enrollment_runs WHERE status = 'running'", "run(s) left running");
        add(anomalies, dsl, "SELECT " + CLIENTS + " - count(*) FROM de_enrollment_runs WHERE status = 'success'",
                "client(s) without a successful run");
        add(anomalies, dsl, "SELECT " + ELIGIBLE + " - coalesce(sum(leads_de_enrolled), 0) FROM de_enrollment_runs",
                "lead(s) missing from the runs' leads_de_enrolled");
        add(anomalies, dsl, "SELECT count(*) FROM de_enrollment_invocations WHERE (status, stop_reason) <> ('finished', 'done')",
                "invocation(s) not finished done");
        return anomalies;
    }

    private static void add(List<String> anomalies, DSLContext dsl, String sql, String what) {
        int n = count(dsl, sql);
        if (n != 0) {
            anomalies.add(n + " " + what);
        }
    }

    private static int count(DSLContext dsl, String sql) {
        return dsl.fetchValue(DSL.field("(" + sql + ")", Integer.class));
    }

    private static Database open(String url) {
        return Database.open(DatabaseTarget.fromUrl(url, "test"), Duration.ofSeconds(10), Duration.ofMinutes(5));
    }

    private static void execute(String url, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** Polls until the run de-enrolled at least {@code n} leads; how many it had then. */
    private static int waitForDeEnrolled(String url, ChildRun child, int n) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < end) {
            try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
                 ResultSet r = s.executeQuery("SELECT count(*) FROM de_enrollment_lead_log WHERE action = 'de_enrolled'")) {
                r.next();
                int done = r.getInt(1);
                if (done >= n) {
                    return done;
                }
            }
            assertThat(child.waitFor(0)).as("the run ended early:%n%s", child.output()).isEqualTo(-1);
            Thread.sleep(50);
        }
        throw new AssertionError("fewer than " + n + " leads de-enrolled within 60 s:\n" + child.output());
    }

    /** The server's pg_ctl, next to the postgres binary of the postmaster running on {@code dataDirectory}. */
    private static Path pgCtl(Path dataDirectory) throws IOException {
        String pid = Files.readAllLines(dataDirectory.resolve("postmaster.pid"), StandardCharsets.UTF_8).get(0).trim();
        Path postgres = Files.readSymbolicLink(Path.of("/proc", pid, "exe"));
        Path pgCtl = postgres.resolveSibling("pg_ctl");
        assertThat(pgCtl).as("pg_ctl of the embedded server").isExecutable();
        return pgCtl;
    }

    /**
     * Runs pg_ctl as zonky runs the server: in a user namespace of its own
     * when this JVM is root (pg_ctl, like postgres, refuses to run as root).
     */
    private static void pgCtl(Path pgCtl, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        if (LinuxUtils.isUnshareAvailable()) {
            command.addAll(List.of("unshare", "-U"));
        }
        command.add(pgCtl.toString());
        command.addAll(List.of(args));
        Path out = Files.createTempFile("deenroll-pg-ctl-", ".log");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            assertThat(p.waitFor(90, TimeUnit.SECONDS)).as("%s finished", command).isTrue();
            assertThat(p.exitValue()).as("exit code of %s: %s", command, Files.readString(out)).isZero();
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** The postmaster's options at the restart: the port and settings zonky gave it (it passes -F too). */
    private static String serverOptions(int port) {
        StringBuilder options = new StringBuilder("-p ").append(port).append(" -F");
        SERVER_CONFIG.forEach((k, v) -> options.append(" -c ").append(k).append('=').append(v));
        return options.toString();
    }

    /** The JSON document the run printed last (pretty-printed: from its last line "{" on; logs come before it). */
    private static String report(String output) {
        List<String> lines = output.lines().toList();
        int start = lines.lastIndexOf("{");
        assertThat(start).as("start of the JSON report in the output:%n%s", output).isNotNegative();
        return String.join("\n", lines.subList(start, lines.size()));
    }
}
