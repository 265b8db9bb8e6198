package deenroll.ops;

import deenroll.support.Cli;
import deenroll.support.TestDatabase;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** What an operator does around restore and rollback, and what another host leaves behind. */
final class Operators {

    private Operators() {
    }

    static void pause(TestDatabase db) {
        Cli.Result pause = Cli.run(db, "pause", "--reason", "restore, INC-42");
        assertThat(pause.exitCode()).as(pause.err()).isZero();
    }

    /** An invocation running on another host, heartbeat fresh, as its process leaves the rows. */
    static UUID liveInvocation(TestDatabase db) {
        UUID id = UUID.randomUUID();
        db.sql("INSERT INTO de_enrollment_invocations (id, host, pid, run_type, batch_size, budget_ms, lease_ms,"
                + " client_ids, run_ids, position, started_at)"
                + " VALUES ('" + id + "', 'worker-7', 4242, 'scheduled', 100, 240000, 90000,"
                + " ARRAY[]::uuid[], ARRAY[]::uuid[], 0, now());"
                + "INSERT INTO de_enrollment_heartbeats (invocation_id, heartbeat_at) VALUES ('" + id + "', clock_timestamp())");
        return id;
    }
}
