package deenroll.cli;

import deenroll.config.UsageException;
import deenroll.health.Limits;
import deenroll.health.Measure;
import deenroll.health.Range;
import deenroll.health.Thresholds;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.DoubleFunction;
import java.util.stream.Collectors;

/**
 * health-check's thresholds. {@code -w/-c LABEL=RANGE} set a measure's warning
 * or critical range in the monitoring-plugins syntax; the older per-rule
 * options (documented, used by deploy/ and n8n/) set the same ranges, so a
 * measure given both ways is a usage error rather than a silent choice.
 */
final class ThresholdOptions {

    @Option(names = {"-w", "--warning"}, paramLabel = "LABEL=RANGE", split = ",",
            description = "warning range of a measure, by its perfdata label, e.g. -w stuck_leads=50 -w success_rate_24h=90: (repeatable; labels and defaults below)")
    Map<String, String> warning = new LinkedHashMap<>();

    @Option(names = {"-c", "--critical"}, paramLabel = "LABEL=RANGE", split = ",",
            description = "critical range of a measure, e.g. -c stuck_leads=200 -c hours_since_success_max=4")
    Map<String, String> critical = new LinkedHashMap<>();

    @Option(names = "--stuck-warning", paramLabel = "N", description = "stuck leads above this: WARNING (-w stuck_leads=N)")
    Integer stuckWarning;

    @Option(names = "--stuck-critical", paramLabel = "N", description = "stuck leads above this: CRITICAL (-c stuck_leads=N)")
    Integer stuckCritical;

    @Option(names = "--stuck-grace-minutes", paramLabel = "MIN", description = "an eligible lead idle longer than this is stuck (default ${DEFAULT-VALUE})")
    int stuckGraceMinutes = (int) Thresholds.DEFAULTS.stuckGrace().toMinutes();

    @Option(names = "--max-hours-since-success", paramLabel = "H", description = "CRITICAL when an active client's last success is older (-c hours_since_success_max=H)")
    Double maxHoursSinceSuccess;

    @Option(names = "--no-run-hours", paramLabel = "H", description = "CRITICAL when no run at all in this many hours (-c hours_since_last_run=H)")
    Integer noRunHours;

    @Option(names = "--min-success-rate", paramLabel = "PCT", description = "WARNING below this 24h success rate (-w success_rate_24h=PCT:)")
    Double minSuccessRate;

    @Option(names = "--max-failed-runs", paramLabel = "N", description = "WARNING when a client, or all clients together, had more failed runs in 24h (-w failed_runs_24h_max=N)")
    Integer maxFailedRuns;

    @Option(names = "--max-average-minutes", paramLabel = "MIN", description = "WARNING when the average processing time is above (-w average_run_duration_24h=MIN*60)")
    Integer maxAverageMinutes;

    @Option(names = "--max-memory-mb", paramLabel = "MB", description = "WARNING when a run's peak memory is above (-w peak_memory_24h=MB)")
    Integer maxMemoryMb;

    @Option(names = "--max-pause-hours", paramLabel = "H", description = "a pause (deenroll pause) is WARNING; CRITICAL when older than this (-c paused_hours=H)")
    Integer maxPauseHours;

    /** A range and the option that set it, to name it in a usage error. */
    private record Given(String option, Range range) {
    }

    /** The help's list of measures: label, unit, default warning and critical range. */
    static String[] measuresHelp() {
        return Arrays.stream(Measure.values()).map(m -> String.format("  %-26s %-6s %-6s %s%s", m.label(),
                text(m.defaults().warning()), text(m.defaults().critical()), m.meaning(),
                // "%" would be a format specifier to the man page generator, which formats footers
                m.unit().isEmpty() ? "" : " (" + (m.unit().equals("%") ? "percent" : m.unit()) + ")")).toArray(String[]::new);
    }

    Thresholds thresholds() {
        if (stuckGraceMinutes < 0) {
            throw new UsageException("--stuck-grace-minutes: expected a number >= 0");
        }
        Map<Measure, Given> warnings = ranges("-w", warning, true);
        Map<Measure, Given> criticals = ranges("-c", critical, false);
        legacy(warnings, Measure.STUCK_LEADS, "--stuck-warning", count("--stuck-warning", stuckWarning), Range::above);
        legacy(criticals, Measure.STUCK_LEADS, "--stuck-critical", count("--stuck-critical", stuckCritical), Range::above);
        legacy(criticals, Measure.HOURS_SINCE_LAST_RUN, "--no-run-hours", count("--no-run-hours", noRunHours), Range::above);
        legacy(warnings, Measure.FAILED_RUNS, "--max-failed-runs", count("--max-failed-runs", maxFailedRuns), Range::above);
        legacy(warnings, Measure.AVERAGE_DURATION, "--max-average-minutes",
                count("--max-average-minutes", maxAverageMinutes).map(m -> m * 60), Range::above);
        legacy(warnings, Measure.PEAK_MEMORY, "--max-memory-mb", count("--max-memory-mb", maxMemoryMb), Range::above);
        legacy(criticals, Measure.PAUSED_HOURS, "--max-pause-hours", count("--max-pause-hours", maxPauseHours), Range::above);
        if (maxHoursSinceSuccess != null && !(maxHoursSinceSuccess > 0)) {
            throw new UsageException("--max-hours-since-success: expected a number of hours above 0");
        }
        legacy(criticals, Measure.HOURS_SINCE_SUCCESS, "--max-hours-since-success",
                Optional.ofNullable(maxHoursSinceSuccess), Range::above);
        if (minSuccessRate != null && (minSuccessRate < 0 || minSuccessRate > 100)) {
            throw new UsageException("--min-success-rate: expected a percentage from 0 to 100");
        }
        legacy(warnings, Measure.SUCCESS_RATE, "--min-success-rate", Optional.ofNullable(minSuccessRate), Range::below);

        Map<Measure, Limits> limits = new EnumMap<>(Measure.class);
        for (Measure m : Measure.values()) {
            Given w = warnings.getOrDefault(m, m.defaults().warning().map(r -> new Given("the default warning", r)).orElse(null));
            Given c = criticals.getOrDefault(m, m.defaults().critical().map(r -> new Given("the default critical", r)).orElse(null));
            requireOrdered(m, w, c);
            limits.put(m, new Limits(Optional.ofNullable(w).map(Given::range), Optional.ofNullable(c).map(Given::range)));
        }
        return new Thresholds(limits, Duration.ofMinutes(stuckGraceMinutes));
    }

    private static Map<Measure, Given> ranges(String option, Map<String, String> given, boolean warning) {
        Map<Measure, Given> ranges = new EnumMap<>(Measure.class);
        given.forEach((label, text) -> {
            Measure m = Measure.byLabel(label).orElseThrow(() -> new UsageException(option + " " + label
                    + ": no such measure; one of " + Arrays.stream(Measure.values()).map(Measure::label)
                    .collect(Collectors.joining(", "))));
            if (warning && !m.hasWarningRange()) {
                throw new UsageException(option + " " + label + ": a pause in force is always a WARNING; only -c "
                        + label + " is a threshold");
            }
            try {
                ranges.put(m, new Given(option + " " + label, Range.parse(text)));
            } catch (IllegalArgumentException e) {
                throw new UsageException(option + " " + label + ": " + e.getMessage());
            }
        });
        return ranges;
    }

    private static void legacy(Map<Measure, Given> ranges, Measure m, String option, Optional<? extends Number> value,
                               DoubleFunction<Range> range) {
        value.ifPresent(v -> {
            Given before = ranges.put(m, new Given(option, range.apply(v.doubleValue())));
            if (before != null) {
                throw new UsageException(option + ": sets the same threshold as " + before.option() + "; give one of them");
            }
        });
    }

    private static Optional<Integer> count(String option, Integer value) {
        if (value != null && value < 0) {
            throw new UsageException(option + ": expected a number >= 0");
        }
        return Optional.ofNullable(value);
    }

    /** A critical range that alerts before the warning one makes WARNING unreachable: a mistake, said so. */
    private static void requireOrdered(Measure m, Given warning, Given critical) {
        if (warning == null || critical == null) {
            return;
        }
        Range w = warning.range();
        Range c = critical.range();
        boolean inverted = w.ceiling().isPresent() && c.ceiling().isPresent() && c.ceiling().getAsDouble() < w.ceiling().getAsDouble()
                || w.floor().isPresent() && c.floor().isPresent() && c.floor().getAsDouble() > w.floor().getAsDouble();
        if (inverted) {
            throw new UsageException(critical.option() + ": the critical range " + c + " of " + m.label()
                    + " alerts before its warning range " + w + " (" + warning.option() + ")");
        }
    }

    private static String text(Optional<Range> range) {
        return range.map(Range::toString).orElse("-");
    }
}
