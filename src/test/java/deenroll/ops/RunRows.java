package deenroll.ops;

import deenroll.support.TestDatabase;

import java.util.UUID;

/**
 * Writes run and lead-log rows directly, with every column set to a value
 * other than its default, for the commands that read or move run history
 * (reports, cleanup) and for the faults verify must find.
 * {@code runAt} / {@code processedAt} are SQL expressions such as
 * {@code now() - interval '91 days'}.
 */
final class RunRows {

    private RunRows() {
    }

    static UUID run(TestDatabase db, UUID clientId, String runAt, String status, int deEnrolled, String errorDetails) {
        UUID id = UUID.randomUUID();
        db.sql("INSERT INTO de_enrollment_runs (id, invocation_id, client_id, run_at, run_type, status,"
                + " leads_evaluated, leads_de_enrolled, leads_skipped, leads_failed, batches, by_outcome, duration_ms,"
                + " error_details, finished_at, heartbeat_at, budget_ms, peak_memory_mb, host, pid) VALUES ("
                + "'" + id + "', '" + UUID.randomUUID() + "', '" + clientId + "', " + runAt + ", 'scheduled', '" + status + "', "
                + (deEnrolled + 3) + ", " + deEnrolled + ", 2, 1, 4, '{\"completed\": " + deEnrolled + "}', 1234, "
                + (errorDetails == null ? "NULL" : "'" + errorDetails.replace("'", "''") + "'") + ", "
                + runAt + " + interval '1234 milliseconds', " + runAt + " + interval '1 second', 240000, 321,"
                + " 'worker-7', 4242)");
        return id;
    }

    static UUID run(TestDatabase db, UUID clientId, String runAt, String status) {
        return run(db, clientId, runAt, status, 5, "failed".equals(status) ? "boom" : null);
    }

    static void leadLog(TestDatabase db, UUID runId, UUID leadId, UUID clientId, String processedAt,
                        String action, String errorMessage) {
        db.sql("INSERT INTO de_enrollment_lead_log (run_id, lead_id, client_id, campaign_id, action, outcome,"
                + " messages_received, error_message, processed_at) VALUES ('" + runId + "', '" + leadId + "', '"
                + clientId + "', NULL, '" + action + "', " + ("de_enrolled".equals(action) ? "'completed'" : "NULL")
                + ", 3, " + (errorMessage == null ? "NULL" : "'" + errorMessage.replace("'", "''") + "'") + ", "
                + processedAt + ")");
    }
}
