package deenroll.engine;

import java.time.Duration;
import java.util.Optional;
import java.util.UUID;

/**
 * What one invocation is asked to do: one client ({@code clientId}) or every
 * active one; {@code lease}: how long its heartbeat may go unrenewed before
 * other processes take it for dead; {@code ignorePause}: run even while
 * de-enrollment is paused (an operator's explicit choice).
 */
public record RunRequest(Optional<UUID> clientId, RunType runType, int batchSize, Duration budget, Duration lease,
                         boolean ignorePause, boolean dryRun) {

    /** The budget as the invocation and run rows record it (budget_ms). */
    int budgetMs() {
        return (int) Math.min(Integer.MAX_VALUE, budget.toMillis());
    }

    int leaseMs() {
        return (int) Math.min(Integer.MAX_VALUE, lease.toMillis());
    }
}
