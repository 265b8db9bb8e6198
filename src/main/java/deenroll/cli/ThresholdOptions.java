package deenroll.cli;

import deenroll.config.Config;
import deenroll.config.Setting;
import deenroll.config.Settings;
import deenroll.config.UsageException;
import deenroll.health.Level;
import deenroll.health.Limits;
import deenroll.health.Measure;
import deenroll.health.Range;
import deenroll.health.Thresholds;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The thresholds of health-check and report daily, which judge by the same
 * ones. {@code -w/-c LABEL=RANGE} set a measure's warning or critical range in
 * the monitoring-plugins syntax; the older per-rule options (documented, used
 * by deploy/ and n8n/) set the same ranges, so a measure given both ways is a
 * usage error rather than a silent choice. Absent, each range comes from its
 * variable ({@link Settings#THRESHOLDS}), else its default.
 */
final class ThresholdOptions {

    @Option(names = {"-w", "--warning"}, paramLabel = "LABEL=RANGE", split = ",",
            description = "warning range of a measure, by its perfdata label, e.g. -w stuck_leads=50 -w success_rate_24h=90: (repeatable; labels and defaults below; env DE_ENROLLMENT_WARNING_<LABEL>, e.g. DE_ENROLLMENT_WARNING_STUCK_LEADS=50)")
    Map<String, String> warning = new LinkedHashMap<>();

    @Option(names = {"-c", "--critical"}, paramLabel = "LABEL=RANGE", split = ",",
            description = "critical range of a measure, e.g. -c stuck_leads=200 -c hours_since_success_max=4 (env DE_ENROLLMENT_CRITICAL_<LABEL>, e.g. DE_ENROLLMENT_CRITICAL_STUCK_LEADS=200)")
    Map<String, String> critical = new LinkedHashMap<>();

    @Option(names = "--stuck-warning", paramLabel = "N", description = "stuck leads above this: WARNING (-w stuck_leads=N)")
    String stuckWarning;

    @Option(names = "--stuck-critical", paramLabel = "N", description = "stuck leads above this: CRITICAL (-c stuck_leads=N)")
    String stuckCritical;

    @Option(names = "--stuck-grace-minutes", paramLabel = "MIN",
            description = "an eligible lead idle longer than this is stuck (env DE_ENROLLMENT_STUCK_GRACE_MINUTES, default 30)")
    String stuckGraceMinutes;

    @Option(names = "--max-hours-since-success", paramLabel = "H", description = "CRITICAL when an active client's last success is older (-c hours_since_success_max=H)")
    String maxHoursSinceSuccess;

    @Option(names = "--no-run-hours", paramLabel = "H", description = "CRITICAL when no run at all in this many hours (-c hours_since_last_run=H)")
    String noRunHours;

    @Option(names = "--min-success-rate", paramLabel = "PCT", description = "WARNING below this 24h success rate (-w success_rate_24h=PCT:)")
    String minSuccessRate;

    @Option(names = "--max-failed-runs", paramLabel = "N", description = "WARNING when a client, or all clients together, had more failed runs in 24h (-w failed_runs_24h_max=N)")
    String maxFailedRuns;

    @Option(names = "--max-average-minutes", paramLabel = "MIN", description = "WARNING when the average processing time is above (-w average_run_duration_24h=MIN*60)")
    String maxAverageMinutes;

    @Option(names = "--max-memory-mb", paramLabel = "MB", description = "WARNING when a run's peak memory is above (-w peak_memory_24h=MB)")
    String maxMemoryMb;

    @Option(names = "--max-pause-hours", paramLabel = "H", description = "a pause (deenroll pause) is WARNING; CRITICAL when older than this (-c paused_hours=H)")
    String maxPauseHours;

    /** A range and where it came from (an option, a variable, the default), to name it in a usage error. */
    private record RangeFrom(String source, Range range) {
    }

    /** The help's list of measures: label, unit, default warning and critical range. */
    static String[] measuresHelp() {
        return Arrays.stream(Measure.values()).map(m -> String.format("  %-26s %-6s %-6s %s%s", m.label(),
                text(m.defaults().warning()), text(m.defaults().critical()), m.meaning(),
                // "%" would be a format specifier to the man page generator, which formats footers
                m.unit().isEmpty() ? "" : " (" + (m.unit().equals("%") ? "percent" : m.unit()) + ")")).toArray(String[]::new);
    }

    /**
     * Each measure's ranges: an option ({@code -w/-c} or an older one; both is
     * a usage error), else its DE_ENROLLMENT_WARNING_/CRITICAL_ variable, else
     * the default; every source parsed and checked by the same {@link Settings.ThresholdSetting}.
     */
    Thresholds thresholds(Config config) {
        requireKnownLabels("-w", warning, true);
        requireKnownLabels("-c", critical, false);
        Map<String, String> aliases = aliasValues();
        Map<Measure, Map<Level, RangeFrom>> ranges = new EnumMap<>(Measure.class);
        for (Settings.ThresholdSetting t : Settings.THRESHOLDS) {
            // the options that set this range, each with the setting that parses it
            List<Map.Entry<Setting<Optional<Range>>, String>> options = new ArrayList<>();
            Optional.ofNullable((t.level() == Level.WARNING ? warning : critical).get(t.measure().label()))
                    .ifPresent(text -> options.add(Map.entry(t.setting(), text)));
            t.aliases().forEach(alias -> Optional.ofNullable(aliases.get(alias.option()))
                    .ifPresent(text -> options.add(Map.entry(alias, text))));
            if (options.size() > 1) {
                throw new UsageException(options.get(1).getKey().option() + ": sets the same threshold as "
                        + options.get(0).getKey().option() + "; give one of them");
            }
            Optional<RangeFrom> range;
            if (options.isEmpty()) {
                String source = config.given(t.setting(), null).map(Setting.Given::source)
                        .orElse(t.level() == Level.WARNING ? "the default warning" : "the default critical");
                range = config.get(t.setting(), null).map(r -> new RangeFrom(source, r));
            } else {
                Setting<Optional<Range>> option = options.get(0).getKey();
                range = option.parse(new Setting.Given(option.option(), options.get(0).getValue()))
                        .map(r -> new RangeFrom(option.option(), r));
            }
            range.ifPresent(r -> ranges.computeIfAbsent(t.measure(), m -> new EnumMap<>(Level.class)).put(t.level(), r));
        }
        Map<Measure, Limits> limits = new EnumMap<>(Measure.class);
        for (Measure m : Measure.values()) {
            Map<Level, RangeFrom> of = ranges.getOrDefault(m, Map.of());
            RangeFrom w = of.get(Level.WARNING);
            RangeFrom c = of.get(Level.CRITICAL);
            requireOrdered(m, w, c);
            limits.put(m, new Limits(Optional.ofNullable(w).map(RangeFrom::range), Optional.ofNullable(c).map(RangeFrom::range)));
        }
        return new Thresholds(limits, config.get(Settings.STUCK_GRACE, stuckGraceMinutes));
    }

    private Map<String, String> aliasValues() {
        Map<String, String> values = new HashMap<>();
        values.put("--stuck-warning", stuckWarning);
        values.put("--stuck-critical", stuckCritical);
        values.put("--max-hours-since-success", maxHoursSinceSuccess);
        values.put("--no-run-hours", noRunHours);
        values.put("--min-success-rate", minSuccessRate);
        values.put("--max-failed-runs", maxFailedRuns);
        values.put("--max-average-minutes", maxAverageMinutes);
        values.put("--max-memory-mb", maxMemoryMb);
        values.put("--max-pause-hours", maxPauseHours);
        return values;
    }

    private static void requireKnownLabels(String option, Map<String, String> given, boolean warning) {
        given.keySet().forEach(label -> {
            Measure m = Measure.byLabel(label).orElseThrow(() -> new UsageException(option + " " + label
                    + ": no such measure; one of " + Arrays.stream(Measure.values()).map(Measure::label)
                    .collect(Collectors.joining(", "))));
            if (warning && !m.hasWarningRange()) {
                throw new UsageException(option + " " + label + ": a pause in force is always a WARNING; only -c "
                        + label + " is a threshold");
            }
        });
    }

    /** A critical range that alerts before the warning one makes WARNING unreachable: a mistake, said so. */
    private static void requireOrdered(Measure m, RangeFrom warning, RangeFrom critical) {
        if (warning == null || critical == null) {
            return;
        }
        Range w = warning.range();
        Range c = critical.range();
        boolean inverted = w.ceiling().isPresent() && c.ceiling().isPresent() && c.ceiling().getAsDouble() < w.ceiling().getAsDouble()
                || w.floor().isPresent() && c.floor().isPresent() && c.floor().getAsDouble() > w.floor().getAsDouble();
        if (inverted) {
            throw new UsageException(critical.source() + ": the critical range " + c + " of " + m.label()
                    + " alerts before its warning range " + w + " (" + warning.source() + ")");
        }
    }

    private static String text(Optional<Range> range) {
        return range.map(Range::toString).orElse("-");
    }
}
