package deenroll.health;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * The numbers of a health report, typed, for the formats that carry them
 * (Nagios perfdata, Prometheus metrics). Each is empty when the check could
 * not measure it (no database, no run in 24h).
 */
public final class HealthNumbers {

    private final Map<String, Object> metrics;

    public HealthNumbers(HealthReport report) {
        this.metrics = report.metrics();
    }

    public OptionalDouble stuckLeads() {
        return number(metrics.get("stuckLeads"));
    }

    public OptionalDouble successRatePercent() {
        return number(metrics.get("successRate24hPercent"));
    }

    public OptionalDouble failedRuns() {
        return metrics.get("runs24h") instanceof Map<?, ?> runs ? number(runs.get("failed")) : OptionalDouble.empty();
    }

    /** The failed runs in 24h of the client with the most: what the failed-runs rule judges. */
    public OptionalDouble failedRunsMaxPerClient() {
        return number(metrics.get("failedRuns24hMaxPerClient"));
    }

    public OptionalDouble hoursSinceLastRun() {
        return number(metrics.get("hoursSinceLastRun"));
    }

    /** How long the pause in force has lasted; empty when not paused. */
    public OptionalDouble pausedHours() {
        return number(metrics.get("pausedHours"));
    }

    public OptionalDouble hoursSinceSuccessMax() {
        return number(metrics.get("hoursSinceSuccessMax"));
    }

    public OptionalDouble averageSeconds() {
        return number(metrics.get("averageInvocationSeconds24h"));
    }

    public OptionalDouble peakMemoryMb() {
        return number(metrics.get("peakMemoryMb24h"));
    }

    /** How long de-enrollment had been paused at {@code now}, 0 when it was not; empty when the check could not tell. */
    public OptionalDouble pausedSeconds(Instant now) {
        if (!metrics.containsKey("paused")) {
            return OptionalDouble.empty();
        }
        if (metrics.get("paused") instanceof Map<?, ?> pause && pause.get("pausedAt") instanceof String at) {
            return OptionalDouble.of(Math.max(0, Duration.between(OffsetDateTime.parse(at), now.atOffset(ZoneOffset.UTC)).toMillis() / 1000.0));
        }
        return OptionalDouble.of(0);
    }

    private static OptionalDouble number(Object value) {
        return value instanceof Number n ? OptionalDouble.of(n.doubleValue()) : OptionalDouble.empty();
    }
}
