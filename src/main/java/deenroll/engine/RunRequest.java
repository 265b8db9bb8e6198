package deenroll.engine;

import java.time.Duration;
import java.util.Optional;
import java.util.UUID;

/** What one invocation is asked to do. */
public record RunRequest(Optional<UUID> clientId, RunType runType, int batchSize, Duration budget, boolean dryRun) {

    /** The budget as a run row records it (de_enrollment_runs.budget_ms). */
    int budgetMs() {
        return (int) Math.min(Integer.MAX_VALUE, budget.toMillis());
    }
}
