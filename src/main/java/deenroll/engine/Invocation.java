package deenroll.engine;

import java.util.List;
import java.util.UUID;

/**
 * Everything one invocation did, as its rows in the database say: its client
 * runs in the order they were done, the clients it did not start, the
 * abandoned runs it closed, and why it stopped.
 */
public record Invocation(UUID invocationId, RunType runType, boolean dryRun, StopReason stopReason,
                         List<ClientRun> clients, List<ClientNotStarted> notStarted, List<AbandonedRun> abandonedClosed,
                         long durationMs) {

    /**
     * A client the invocation did not start because the budget, a stop request
     * or a pause came first; {@code workLeft} when it had eligible leads then.
     */
    public record ClientNotStarted(UUID clientId, String clientName, boolean workLeft) {
    }

    public Counts totals() {
        return clients.stream().map(ClientRun::counts).reduce(Counts.ZERO, Counts::plus);
    }

    /** A client's run failed, or another process closed this invocation as abandoned. */
    public boolean anyFailed() {
        return stopReason == StopReason.ABANDONED || clients.stream().anyMatch(c -> c.status() == RunStatus.FAILED);
    }

    public boolean workLeft() {
        return notStarted.stream().anyMatch(ClientNotStarted::workLeft)
                || clients.stream().anyMatch(c -> c.status() == RunStatus.PARTIAL);
    }

    public InvocationStatus status() {
        if (anyFailed()) {
            return InvocationStatus.FAILED;
        }
        if (stopReason == StopReason.PAUSED) {
            return InvocationStatus.PAUSED;
        }
        return workLeft() ? InvocationStatus.PARTIAL : InvocationStatus.SUCCESS;
    }
}
