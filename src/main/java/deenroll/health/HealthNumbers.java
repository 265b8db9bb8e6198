package deenroll.health;

import deenroll.control.Pause;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * The numbers behind a health report, as the check measured them, for the
 * formats that carry them (JSON metrics, Nagios perfdata, Prometheus). An
 * empty one is a number the check could not take (no run in 24 h, no memory
 * recorded). Hours are rounded to 0.01, seconds and percentages to 0.1.
 */
public record HealthNumbers(Optional<Pause> pause, OptionalDouble pausedHours, int abandonedRunsClosed,
                            Optional<OffsetDateTime> lastRunAt, OptionalDouble hoursSinceLastRun, int activeClients,
                            OptionalDouble hoursSinceSuccessMax, long successfulRuns, long partialRuns, long failedRuns,
                            OptionalLong failedRunsMaxPerClient, OptionalDouble successRatePercent, int stuckLeads,
                            OptionalDouble averageSeconds, OptionalInt peakMemoryMb) {

    /** How long de-enrollment had been paused at {@code now}, 0 when it was not. */
    public double pausedSeconds(Instant now) {
        return pause.map(p -> Math.max(0, Duration.between(p.pausedAt(), now.atOffset(ZoneOffset.UTC)).toMillis() / 1000.0))
                .orElse(0.0);
    }

    /** The {@code metrics} of health-check's JSON document; a number not taken is null, or absent where it always was. */
    public Map<String, Object> json() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("paused", pause.map(Pause::json).orElse(null));
        json.put("pausedHours", boxed(pausedHours));
        json.put("abandonedRunsClosed", abandonedRunsClosed);
        json.put("lastRunAt", lastRunAt.map(OffsetDateTime::toString).orElse(null));
        json.put("hoursSinceLastRun", boxed(hoursSinceLastRun));
        json.put("activeClients", activeClients);
        json.put("hoursSinceSuccessMax", boxed(hoursSinceSuccessMax));
        json.put("runs24h", Map.of("success", successfulRuns, "partial", partialRuns, "failed", failedRuns));
        json.put("failedRuns24hMaxPerClient", failedRunsMaxPerClient.isPresent() ? failedRunsMaxPerClient.getAsLong() : null);
        successRatePercent.ifPresent(rate -> json.put("successRate24hPercent", rate));
        json.put("stuckLeads", stuckLeads);
        averageSeconds.ifPresent(seconds -> json.put("averageInvocationSeconds24h", seconds));
        json.put("peakMemoryMb24h", peakMemoryMb.isPresent() ? peakMemoryMb.getAsInt() : null);
        return json;
    }

    private static Double boxed(OptionalDouble value) {
        return value.isPresent() ? value.getAsDouble() : null;
    }
}
