package deenroll.engine;

import java.time.Duration;

/**
 * Where a running invocation stands after a slice of the batch loop, as its
 * rows say: clients done of its clients, leads de-enrolled so far, time spent
 * and time left in its budget.
 */
public record Progress(int clientsDone, int clientsTotal, int leadsDeEnrolled, Duration elapsed, Duration budgetLeft) {

    public Progress {
        budgetLeft = budgetLeft.isNegative() ? Duration.ZERO : budgetLeft;
    }

    /** Leads de-enrolled per second since the invocation started; 0 before any time has passed. */
    public double leadsPerSecond() {
        long millis = elapsed.toMillis();
        return millis <= 0 ? 0 : leadsDeEnrolled * 1000.0 / millis;
    }
}
