package deenroll.engine;

import java.util.UUID;

/**
 * The result of one client in one invocation. {@code runId} is null for a dry
 * run (which writes nothing). {@code workLeft} is true when the budget ran out
 * (or a stop was requested) before the client's eligible leads were done.
 */
public record ClientRun(UUID clientId, String clientName, UUID runId, RunStatus status, Counts counts,
                        int batches, long durationMs, String error) {
}
