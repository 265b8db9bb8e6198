package deenroll.ops;

import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.RepeatedTest;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The procedure says to reconcile when verify finds drift, and the job runs
 * every 15 minutes: the two will overlap. Reconcile recomputes counters while
 * batches move them; whatever the interleaving, the end state must have zero
 * drift and every lead de-enrolled exactly once. Small batches make many
 * commits for the reconciles to fall between.
 */
@Tag("compat")
class ReconcileDuringRunTest {

    private static final int CLIENTS = 3;
    private static final int CAMPAIGNS_PER_CLIENT = 4;
    private static final int FINISHED_PER_CAMPAIGN = 100;

    /** ~400 finished leads per client (some booked, some opted out) and a few still in flight. */
    private static void platform(TestDatabase db, Fixtures f) {
        for (int c = 0; c < CLIENTS; c++) {
            UUID client = f.client("Client " + c);
            for (int k = 0; k < CAMPAIGNS_PER_CLIENT; k++) {
                UUID campaign = f.campaign(client, 3);
                db.sql("INSERT INTO leads (id, client_id, campaign_link_id, first_name, current_message_position, booked,"
                        + " opted_out, enrolled_at, last_message_at, created_at, updated_at)"
                        + " SELECT md5('" + campaign + "' || g)::uuid, '" + client + "', '" + campaign + "', 'Lead',"
                        + " CASE WHEN g <= " + FINISHED_PER_CAMPAIGN + " THEN 3 ELSE 1 END, g % 9 = 0, g % 7 = 0,"
                        + " now() - interval '30 days', now() - interval '2 days', now() - interval '31 days',"
                        + " now() - interval '2 days' FROM generate_series(1, " + (FINISHED_PER_CAMPAIGN + 10) + ") g");
            }
        }
        f.recount();
    }

    @RepeatedTest(3)
    void reconcileDuringARunEndsWithZeroDriftAndEachLeadDeEnrolledOnce() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Fixtures f = new Fixtures(db.db().dsl());
            platform(db, f);
            int finished = f.eligible();
            assertThat(finished).isEqualTo(CLIENTS * CAMPAIGNS_PER_CLIENT * FINISHED_PER_CAMPAIGN);
            db.sql("UPDATE campaigns SET active_leads_count = active_leads_count + 11, booked_count = booked_count + 2,"
                    + " completed_leads_count = completed_leads_count + 3, opted_out_count = 0");
            assertThat(f.drift()).isEqualTo(CLIENTS * CAMPAIGNS_PER_CLIENT);

            CountDownLatch start = new CountDownLatch(1);
            AtomicBoolean runDone = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                Future<Cli.Result> run = pool.submit(() -> {
                    start.await();
                    try {
                        return Cli.run(db, "run", "--batch-size", "5");
                    } finally {
                        runDone.set(true);
                    }
                });
                Future<List<Cli.Result>> reconciles = pool.submit(() -> {
                    start.await();
                    List<Cli.Result> results = new ArrayList<>();
                    // several reconciles while the run is in progress; bounded so a hung run cannot hang the test
                    while (!runDone.get() && results.size() < 500) {
                        results.add(Cli.run(db, "reconcile-stats"));
                    }
                    return results;
                });
                start.countDown();

                Cli.Result runResult = run.get(5, TimeUnit.MINUTES);
                List<Cli.Result> reconcileResults = reconciles.get(5, TimeUnit.MINUTES);

                assertThat(runResult.exitCode()).as(runResult.out() + runResult.err()).isZero();
                assertThat(reconcileResults).isNotEmpty()
                        .allSatisfy(r -> assertThat(r.exitCode()).as(r.err()).isZero());
            } finally {
                pool.shutdownNow();
            }

            assertThat(f.drift()).isZero();
            assertThat(f.eligible()).isZero();
            assertThat(Sql.number(db, "SELECT count(*) FROM leads WHERE completed_at IS NOT NULL")).isEqualTo(finished);
            assertThat(Sql.number(db, "SELECT count(*) FROM de_enrollment_lead_log WHERE action = 'de_enrolled'"))
                    .isEqualTo(finished);
            // exactly one de_enrolled row and one history entry per de-enrolled lead
            assertThat(Sql.number(db, "SELECT count(*) FROM leads l WHERE l.completed_at IS NOT NULL AND ("
                    + " (SELECT count(*) FROM de_enrollment_lead_log g WHERE g.lead_id = l.id AND g.action = 'de_enrolled') <> 1"
                    + " OR jsonb_array_length(l.campaign_history) <> 1)")).isZero();
        }
    }
}
