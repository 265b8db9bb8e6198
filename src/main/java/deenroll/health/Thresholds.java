package deenroll.health;

import java.time.Duration;

/** The limits of the health rules (DESIGN §6); each is a health-check option. */
public record Thresholds(Duration noRunWindow,
                         double maxHoursSinceSuccess,
                         double minSuccessRatePercent,
                         int maxFailedRuns,
                         int stuckWarning,
                         int stuckCritical,
                         Duration stuckGrace,
                         Duration maxAverageDuration,
                         int maxPeakMemoryMb,
                         Duration maxPause) {

    public static final Thresholds DEFAULTS = new Thresholds(Duration.ofHours(2), 2.0, 95.0, 5, 100, 500,
            Duration.ofMinutes(30), Duration.ofMinutes(4), 2048, Duration.ofHours(24));
}
