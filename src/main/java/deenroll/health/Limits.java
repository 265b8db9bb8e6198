package deenroll.health;

import java.util.Optional;

/**
 * The warning and critical range of one measure; either may be absent (the
 * rule has no such level). CRITICAL wins when both alert.
 */
public record Limits(Optional<Range> warning, Optional<Range> critical) {

    public Level level(double value) {
        if (critical.filter(r -> r.alerts(value)).isPresent()) {
            return Level.CRITICAL;
        }
        return warning.filter(r -> r.alerts(value)).isPresent() ? Level.WARNING : Level.OK;
    }

    /** The range a value at {@code level} broke (the critical one for CRITICAL, else the warning one). */
    public Optional<Range> range(Level level) {
        return level == Level.CRITICAL ? critical : level == Level.WARNING ? warning : Optional.empty();
    }
}
