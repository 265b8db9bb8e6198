package deenroll.health;

import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.jooq.Record;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * de_enrollment_health's 24-hour window (0032 reads the day once for all
 * clients instead of once per client): a run exactly 24 hours old is out, one
 * a microsecond younger is in, each client counts only its own runs, and a
 * client without a run in the window shows 0 counts and no averages. The runs
 * are written and the view read in one transaction, so both see the same now().
 */
class HealthViewWindowTest {

    @Test
    void theWindowIsTheLast24HoursExactlyAndPerClient() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Fixtures f = new Fixtures(db.db().dsl());
            UUID acme = f.client("Acme Dental");
            UUID quiet = f.client("Quiet Clinic");
            UUID busy = f.client("Busy Vet");
            Record[] rows = db.db().dsl().transactionResult(cfg -> {
                var tx = cfg.dsl();
                tx.execute("INSERT INTO de_enrollment_runs (id, invocation_id, client_id, run_at, run_type, status, budget_ms,"
                        + " leads_de_enrolled, duration_ms, peak_memory_mb) VALUES"
                        + " (gen_random_uuid(), gen_random_uuid(), '" + acme + "', now() - interval '24 hours', 'scheduled',"
                        + " 'failed', 240000, 7, 9000, 900),"
                        + " (gen_random_uuid(), gen_random_uuid(), '" + acme + "',"
                        + " now() - interval '24 hours' + interval '1 microsecond', 'scheduled', 'failed', 240000, 2, 100, 200),"
                        + " (gen_random_uuid(), gen_random_uuid(), '" + quiet + "', now() - interval '30 hours', 'scheduled',"
                        + " 'success', 240000, 5, 50, 100),"
                        + " (gen_random_uuid(), gen_random_uuid(), '" + busy + "', now() - interval '1 hour', 'scheduled',"
                        + " 'success', 240000, 1, 10, 150),"
                        + " (gen_random_uuid(), gen_random_uuid(), '" + busy + "', now() - interval '2 hours', 'scheduled',"
                        + " 'partial', 240000, 3, 30, 160)");
                return tx.fetch("SELECT client_name, total_runs_24h, successful_runs_24h, partial_runs_24h, failed_runs_24h,"
                        + " leads_de_enrolled_24h, avg_duration_ms, max_peak_memory_mb,"
                        + " last_run_at = now() - interval '24 hours' + interval '1 microsecond' AS last_run_is_the_younger,"
                        + " last_success IS NOT NULL AS has_success"
                        + " FROM de_enrollment_health ORDER BY client_name").toArray(new Record[0]);
            });
            assertThat(rows).hasSize(3);
            // Acme: only the run a microsecond inside the window
            assertThat(rows[0].intoArray()).containsExactly("Acme Dental", 1L, 0L, 0L, 1L, 2L, 100, 200, true, false);
            assertThat(rows[1].intoArray()).containsExactly("Busy Vet", 2L, 1L, 1L, 0L, 4L, 20, 160, false, true);
            // Quiet: its one run is older than the window, but it is still its last success
            assertThat(rows[2].intoArray()).containsExactly("Quiet Clinic", 0L, 0L, 0L, 0L, 0L, null, null, false, true);
        }
    }
}
