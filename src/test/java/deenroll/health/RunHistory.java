package deenroll.health;

import deenroll.support.TestDatabase;

import java.util.StringJoiner;
import java.util.UUID;

/**
 * Writes de_enrollment_runs rows by hand, to put the run history in the state a
 * health rule is about (a client silent for 3 hours, 6 failures in a day...)
 * without waiting for it.
 */
public final class RunHistory {

    private final TestDatabase db;

    public RunHistory(TestDatabase db) {
        this.db = db;
    }

    /**
     * {@code count} finished runs of {@code client}, started {@code age} ago (a
     * PostgreSQL interval), closed as the engine closes them: 2 s long, with
     * finished_at, duration and peak memory recorded.
     */
    public void finished(UUID client, String status, String age, int count) {
        insert(client, status, age, count, true);
    }

    /**
     * The same, with only the columns a run row cannot do without (id,
     * invocation_id, client_id, run_at, run_type, status, budget_ms): no
     * finished_at, no duration, no peak memory — as a run closed as abandoned,
     * or written by another tool, looks.
     */
    public void bare(UUID client, String status, String age, int count) {
        insert(client, status, age, count, false);
    }

    private void insert(UUID client, String status, String age, int count, boolean complete) {
        StringJoiner rows = new StringJoiner(",\n");
        for (int i = 0; i < count; i++) {
            String runAt = "now() - interval '" + age + "'";
            rows.add("('" + UUID.randomUUID() + "', '" + UUID.randomUUID() + "', '" + client + "', " + runAt
                    + ", 'scheduled', '" + status + "', 240000"
                    + (complete ? ", 2000, " + runAt + " + interval '2 seconds', " + runAt + " + interval '2 seconds', 256" : "")
                    + ")");
        }
        db.sql("INSERT INTO de_enrollment_runs (id, invocation_id, client_id, run_at, run_type, status, budget_ms"
                + (complete ? ", duration_ms, finished_at, heartbeat_at, peak_memory_mb" : "")
                + ") VALUES " + rows);
    }
}
