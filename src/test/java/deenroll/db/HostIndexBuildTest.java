package deenroll.db;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import deenroll.support.Cli;
import deenroll.support.Query;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.jooq.DSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * deenroll's index on leads is built CONCURRENTLY by `migrate`, outside V21's
 * transaction: host writers are never queued behind a ShareLock on leads, and
 * an index an interrupted build left invalid is rebuilt by the next `migrate`.
 * Each test holds a host transaction open on leads, so that the build waits
 * for it and what the build's locks do to other writers can be observed in
 * pg_locks and pg_stat_activity, without timing anything.
 */
@Tag("compat")
@Timeout(180)
class HostIndexBuildTest {

    private static final HostIndex PENDING = HostIndex.ALL.get(0);

    private final TestDatabase db = TestPostgres.get().hostOnly();

    @AfterEach
    void drop() {
        db.close();
    }

    private DSLContext dsl() {
        return db.db().dsl();
    }

    private Connection connect() throws SQLException {
        return DriverManager.getConnection(db.jdbcUrl());
    }

    /** A host transaction that updated a lead and stays open until committed: it holds RowExclusiveLock on leads. */
    private Connection openHostWrite() throws SQLException {
        Connection c = connect();
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            s.execute("UPDATE leads SET updated_at = now() WHERE id = md5('lead1')::uuid");
        }
        return c;
    }

    private void loadLeads() {
        db.sql("INSERT INTO clients (id, name) VALUES ('00000000-0000-0000-0000-000000000001', 'Acme');"
                + "INSERT INTO campaigns (id, client_id, name, messages) VALUES ('00000000-0000-0000-0000-000000000002',"
                + " '00000000-0000-0000-0000-000000000001', 'C', '[{\"step\": 1, \"text\": \"a\"}]');"
                + "INSERT INTO leads (id, client_id, campaign_link_id, current_message_position)"
                + " SELECT md5('lead' || g)::uuid, '00000000-0000-0000-0000-000000000001',"
                + " '00000000-0000-0000-0000-000000000002', g % 2 FROM generate_series(1, 1000) g");
    }

    /** What the backend running a statement containing {@code text} in this database waits for, when it waits for a lock. */
    private String lockWaitOf(String text) {
        return Query.value(dsl(), String.class, "SELECT max(wait_event) FROM pg_stat_activity WHERE datname = current_database()"
                + " AND wait_event_type = 'Lock' AND query LIKE ? AND pid <> pg_backend_pid()", "%" + text + "%");
    }

    /** The modes of the locks held or asked for on leads in this database. */
    private List<String> leadsLockModes() {
        return dsl().fetch("SELECT DISTINCT mode FROM pg_locks WHERE locktype = 'relation'"
                        + " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                        + " AND relation = 'leads'::regclass AND pid <> pg_backend_pid() ORDER BY mode")
                .getValues(0, String.class);
    }

    /** Polls until {@code condition} holds (the class's timeout ends a test whose condition never comes). */
    private static void await(BooleanSupplier condition) throws InterruptedException {
        while (!condition.getAsBoolean()) {
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }

    @Test
    void theIndexBuildWaitsForAHostTransactionWithoutQueueingOtherWritersBehindIt() throws Exception {
        loadLeads();
        // V19 and V20 alter leads: applied first, as migrate does before the index
        new Migrator(db.db().dataSource(), dsl()).flyway("20").migrate();

        try (Connection host = openHostWrite()) {
            CompletableFuture<Cli.Result> migrate = CompletableFuture.supplyAsync(() -> Cli.run(db, "migrate", "--lock-timeout", "0"));
            await(() -> lockWaitOf("CREATE INDEX") != null || migrate.isDone());
            assertThat(migrate).as("migrate waits for the open host transaction").isNotDone();

            assertThat(lockWaitOf("CREATE INDEX")).as("waits for the transaction, not for a lock on leads").isEqualTo("virtualxid");
            assertThat(leadsLockModes()).as("migrate holds or asks for no ShareLock on leads, which would queue every writer")
                    .doesNotContain("ShareLock").contains("ShareUpdateExclusiveLock", "RowExclusiveLock");

            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try (Connection c = connect(); Statement s = c.createStatement()) {
                    s.execute("UPDATE leads SET updated_at = now() WHERE id = md5('lead2')::uuid");
                    s.execute("INSERT INTO leads (id, client_id) VALUES ('00000000-0000-0000-0000-0000000000ff',"
                            + " '00000000-0000-0000-0000-000000000001')");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            await(() -> writer.isDone() || lockWaitOf("UPDATE leads") != null
                    || lockWaitOf("INSERT INTO leads") != null);
            writer.get(10, TimeUnit.SECONDS);
            assertThat(migrate).as("the build still waits for the first host transaction").isNotDone();

            host.commit();
            Cli.Result r = migrate.get(120, TimeUnit.SECONDS);
            assertThat(r.exitCode()).as(r.err()).isZero();
        }
        assertThat(new Catalog(dsl()).indexValid(PENDING.name())).isTrue();
        assertThat(Query.value(dsl(), Integer.class, "SELECT de_enrollment_schema_version()")).isEqualTo(Migrator.REQUIRED_VERSION);
        assertThat(Query.value(dsl(), Integer.class, "SELECT count(*) FROM leads")).isEqualTo(1001);
    }

    @Test
    void anIndexAnInterruptedBuildLeftInvalidIsReportedByVerifyAndRebuiltByTheNextMigrate() throws Exception {
        loadLeads();
        Cli.Result first = Cli.run(db, "migrate");
        assertThat(first.exitCode()).as(first.err()).isZero();
        db.sql(PENDING.dropConcurrently());
        int builderPid;
        try (Connection host = openHostWrite(); Connection builder = connect()) {
            builderPid = pidOf(builder);
            CompletableFuture<Void> build = CompletableFuture.runAsync(() -> {
                try (Statement s = builder.createStatement()) {
                    s.execute(PENDING.createConcurrently());
                } catch (SQLException e) {
                    throw new IllegalStateException(e.getSQLState(), e);
                }
            });
            await(() -> lockWaitOf("CREATE INDEX") != null);

            Cli.Result whileBuilding = Cli.run(db, "migrate");
            assertThat(whileBuilding.exitCode()).isEqualTo(1);
            assertThat(whileBuilding.err()).contains("is being built by another session (pid [" + builderPid + "]");

            dsl().execute("SELECT pg_cancel_backend(" + builderPid + ")");
            assertThat(build).failsWithin(30, TimeUnit.SECONDS);
            host.commit();
        }
        assertThat(new Catalog(dsl()).relationExists(PENDING.name())).isTrue();
        assertThat(new Catalog(dsl()).indexValid(PENDING.name())).as("the cancelled build left it invalid").isFalse();
        Cli.Result verify = Cli.run(db, "verify");
        assertThat(verify.exitCode()).isEqualTo(1);
        assertThat(verify.err() + verify.out()).contains("index " + PENDING.name() + " (invalid)");

        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        Logger logger = (Logger) LoggerFactory.getLogger(HostIndexes.class);
        logger.addAppender(log);
        Cli.Result again;
        try {
            again = Cli.run(db, "migrate");
        } finally {
            logger.detachAppender(log);
        }

        assertThat(again.exitCode()).as(again.err()).isZero();
        assertThat(again.out()).contains("up to date");
        assertThat(log.list).map(ILoggingEvent::getFormattedMessage)
                .anyMatch(m -> m.contains(PENDING.name() + " on leads is invalid") && m.contains("building it again concurrently"));
        assertThat(new Catalog(dsl()).indexValid(PENDING.name())).isTrue();
        assertThat(Cli.run(db, "verify").out()).contains("✅ schema present");
    }

    private static int pidOf(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); var rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
