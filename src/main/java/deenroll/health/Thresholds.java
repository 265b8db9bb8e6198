package deenroll.health;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/**
 * The limits of the health rules (DESIGN §6): a warning and a critical range
 * per {@link Measure}, and the grace period after which an eligible lead
 * counts as stuck. health-check's options set them.
 */
public record Thresholds(Map<Measure, Limits> limits, Duration stuckGrace) {

    public static final Thresholds DEFAULTS = new Thresholds(Measure.allDefaults(), Duration.ofMinutes(30));

    public Thresholds {
        EnumMap<Measure, Limits> all = new EnumMap<>(Measure.allDefaults());
        all.putAll(limits);
        limits = Map.copyOf(all);
    }

    public Limits of(Measure measure) {
        return limits.get(measure);
    }

    public Level level(Measure measure, double value) {
        return of(measure).level(value);
    }
}
