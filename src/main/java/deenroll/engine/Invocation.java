package deenroll.engine;

import java.util.List;
import java.util.UUID;

/** Everything one invocation did: its client runs and the abandoned runs it closed. */
public record Invocation(UUID invocationId, RunType runType, boolean dryRun, List<ClientRun> clients,
                         List<ClientSkipped> notReached, List<AbandonedRun> abandonedClosed, long durationMs) {

    /**
     * A client the invocation did not start because the budget or a stop request
     * ran out first; {@code workLeft} when it had eligible leads at that moment.
     */
    public record ClientSkipped(UUID clientId, String clientName, boolean workLeft) {
    }

    public Counts totals() {
        return clients.stream().map(ClientRun::counts).reduce(Counts.ZERO, Counts::plus);
    }

    public boolean anyFailed() {
        return clients.stream().anyMatch(c -> c.status() == RunStatus.FAILED);
    }

    public boolean workLeft() {
        return notReached.stream().anyMatch(ClientSkipped::workLeft)
                || clients.stream().anyMatch(c -> c.status() == RunStatus.PARTIAL);
    }

    /** failed > partial > success, the order an operator cares about. */
    public RunStatus status() {
        if (anyFailed()) {
            return RunStatus.FAILED;
        }
        return workLeft() ? RunStatus.PARTIAL : RunStatus.SUCCESS;
    }
}
