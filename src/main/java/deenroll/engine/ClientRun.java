package deenroll.engine;

import java.util.UUID;

/**
 * The result of one client in one invocation, as its run row has it.
 * {@code runId} is null for a dry run (which writes nothing); {@code error}
 * says why a run failed or why some of its leads did.
 */
public record ClientRun(UUID clientId, String clientName, UUID runId, RunStatus status, Counts counts,
                        int batches, long durationMs, String error) {
}
