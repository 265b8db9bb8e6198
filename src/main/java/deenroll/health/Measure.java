package deenroll.health;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.stream.Collectors;

/**
 * The numbers the health rules (DESIGN §6) judge, each with the one
 * definition of its default warning and critical range. The label is the
 * Nagios perfdata label and the key of {@code health-check -w/-c LABEL=RANGE};
 * ranges are in the measure's unit, the one perfdata shows.
 */
public enum Measure {
    STUCK_LEADS("stuck_leads", "", "stuck leads", "100", "500"),
    SUCCESS_RATE("success_rate_24h", "%", "share of the last 24h's finished runs that did not fail", "95:", null),
    FAILED_RUNS("failed_runs_24h_max", "", "failed runs in the last 24h, of each client and of all together", "5", null),
    HOURS_SINCE_SUCCESS("hours_since_success_max", "", "hours since the last success of an active client", null, "2"),
    HOURS_SINCE_LAST_RUN("hours_since_last_run", "", "hours since the last run of any client", null, "2"),
    AVERAGE_DURATION("average_run_duration_24h", "s", "average wall time of an invocation in the last 24h", "240", null),
    PEAK_MEMORY("peak_memory_24h", "MB", "peak memory of a run in the last 24h", "2048", null),
    /** While a pause is in force it is a WARNING whatever its age: only its critical range is a threshold. */
    PAUSED_HOURS("paused_hours", "", "hours the pause in force has lasted (a pause is always at least a WARNING)", null, "24");

    private final String label;
    private final String unit;
    private final String meaning;
    private final Limits defaults;

    Measure(String label, String unit, String meaning, String warning, String critical) {
        this.label = label;
        this.unit = unit;
        this.meaning = meaning;
        this.defaults = new Limits(Optional.ofNullable(warning).map(Range::parse), Optional.ofNullable(critical).map(Range::parse));
    }

    public String label() {
        return label;
    }

    /** Nagios' unit of measurement ("", "%", "s", "MB"). */
    public String unit() {
        return unit;
    }

    public String meaning() {
        return meaning;
    }

    public Limits defaults() {
        return defaults;
    }

    /**
     * Why {@code range} makes no sense for this measure, if it does not: no
     * measure is negative, a percentage is at most 100, and a time or a size
     * "above 0" alerts on every check (a count above 0 is a real rule: any stuck lead).
     */
    public Optional<String> refusal(Range range) {
        double[] ends = {range.start(), range.end()};
        for (double end : ends) {
            if (Double.isFinite(end) && end < 0) {
                return Optional.of("a range of values from 0 up (" + label + " is never negative; ~ leaves out the lower end)");
            }
            if (Double.isFinite(end) && max().isPresent() && end > max().getAsDouble()) {
                return Optional.of("a range within 0.." + Range.number(max().getAsDouble()) + " (" + label + " is a percentage)");
            }
        }
        if (zeroLimitAlwaysAlerts() && range.ceiling().isPresent() && range.ceiling().getAsDouble() == 0) {
            return Optional.of("a limit above 0 (" + label + " is above 0 on every check: 0 would always alert)");
        }
        return Optional.empty();
    }

    /** A time or size: past 0 as soon as it is measured, unlike a count, a rate or a pause's age. */
    public boolean zeroLimitAlwaysAlerts() {
        return this == HOURS_SINCE_SUCCESS || this == HOURS_SINCE_LAST_RUN || this == AVERAGE_DURATION || this == PEAK_MEMORY;
    }

    public boolean hasWarningRange() {
        return this != PAUSED_HOURS;
    }

    /** The largest value the measure can take, for perfdata's max field. */
    public OptionalDouble max() {
        return unit.equals("%") ? OptionalDouble.of(100) : OptionalDouble.empty();
    }

    public static Optional<Measure> byLabel(String label) {
        return Arrays.stream(values()).filter(m -> m.label.equals(label)).findFirst();
    }

    static Map<Measure, Limits> allDefaults() {
        return Arrays.stream(values()).collect(Collectors.toMap(m -> m, Measure::defaults, (a, b) -> a,
                () -> new EnumMap<>(Measure.class)));
    }
}
