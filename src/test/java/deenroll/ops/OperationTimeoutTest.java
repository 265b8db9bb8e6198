package deenroll.ops;

import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The long operations have their own timeout, not the engine's statement
 * timeout: a statement of theirs that takes longer than --statement-timeout
 * (here: it waits for another transaction's lock on leads) still finishes,
 * and --operation-timeout bounds it instead.
 */
class OperationTimeoutTest {

    private static final Map<String, String> SHORT_STATEMENTS = Map.of("DE_ENROLLMENT_STATEMENT_TIMEOUT", "1000");

    /** Another transaction holds leads exclusively for {@code millis}, as a long host transaction would. */
    private static CompletableFuture<Void> holdLeads(TestDatabase db, long millis) throws InterruptedException {
        CountDownLatch locked = new CountDownLatch(1);
        CompletableFuture<Void> holder = CompletableFuture.runAsync(() -> db.db().dsl().transaction(cfg -> {
            cfg.dsl().execute("LOCK TABLE leads IN ACCESS EXCLUSIVE MODE");
            locked.countDown();
            Thread.sleep(millis);
        }));
        assertThat(locked.await(10, TimeUnit.SECONDS)).isTrue();
        return holder;
    }

    @Test
    void backupOutlivesTheStatementTimeoutAndIsBoundedByItsOwn() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Scenario.build(new Fixtures(db.db().dsl()));

            CompletableFuture<Void> first = holdLeads(db, 2500);
            Cli.Result outlives = Cli.run(db, SHORT_STATEMENTS, "backup");
            first.get(10, TimeUnit.SECONDS);
            CompletableFuture<Void> second = holdLeads(db, 3000);
            Cli.Result bounded = Cli.run(db, SHORT_STATEMENTS, "backup", "--replace", "--operation-timeout", "1000");
            second.get(10, TimeUnit.SECONDS);

            assertThat(outlives.exitCode()).as(outlives.err()).isZero();
            assertThat(bounded.exitCode()).as(bounded.out()).isEqualTo(1);
            assertThat(bounded.err()).containsIgnoringCase("cancel");
        }
    }

    @Test
    void cleanupOutlivesTheStatementTimeoutWithTheDefaultOperationTimeout() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            db.sql("CREATE TABLE leads_backup_20000101 AS TABLE leads; CREATE TABLE campaigns_backup_20000101 AS TABLE campaigns;"
                    + " CREATE TABLE leads_backup_20000102 AS TABLE leads");
            // the prune's DROP waits for the lock on the backup table another transaction holds
            CountDownLatch locked = new CountDownLatch(1);
            CompletableFuture<Void> holder = CompletableFuture.runAsync(() -> db.db().dsl().transaction(cfg -> {
                cfg.dsl().execute("LOCK TABLE leads_backup_20000101 IN ACCESS SHARE MODE");
                locked.countDown();
                Thread.sleep(2500);
            }));
            assertThat(locked.await(10, TimeUnit.SECONDS)).isTrue();

            Cli.Result cleanup = Cli.run(db, SHORT_STATEMENTS, "cleanup");
            holder.get(10, TimeUnit.SECONDS);

            assertThat(cleanup.exitCode()).as(cleanup.err()).isZero();
            assertThat(Sql.relationExists(db, "leads_backup_20000101")).isFalse();
        }
    }

    @Test
    void aNegativeOperationTimeoutIsAUsageError() {
        Cli.Result restore = Cli.run(Map.of(), "restore", "--from", "20261129", "--operation-timeout", "-1");

        assertThat(restore.exitCode()).isEqualTo(2);
        assertThat(restore.err()).contains("--operation-timeout: expected an integer from 0");
    }
}
