package deenroll.cli;

import deenroll.health.Finding;
import deenroll.health.HealthNumbers;
import deenroll.health.HealthReport;
import deenroll.health.Limits;
import deenroll.health.Measure;
import deenroll.health.Range;
import deenroll.health.Thresholds;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * A health report as a Nagios/Icinga plugin prints it (monitoring-plugins
 * guidelines): the first line is {@code STATUS: text | perfdata}, each
 * measure with the warning and critical range it was judged by; the findings
 * follow as the long output, one per line. Exit codes are the report's own.
 */
final class NagiosOutput {

    private NagiosOutput() {
    }

    static List<String> lines(HealthReport report, Thresholds limits) {
        List<Finding> problems = report.problems();
        String text = problems.isEmpty()
                ? report.findings().stream().map(Finding::message).findFirst().orElse("no findings")
                : problems.get(0).message() + (problems.size() > 1 ? " (+" + (problems.size() - 1) + " more)" : "");
        String perfdata = report.numbers().map(n -> perfdata(n, limits)).orElse("");
        List<String> lines = new ArrayList<>();
        lines.add(report.level().name() + ": " + clean(text) + (perfdata.isEmpty() ? "" : " | " + perfdata));
        report.findings().forEach(f -> lines.add(clean(f.line())));
        return lines;
    }

    private static String perfdata(HealthNumbers n, Thresholds limits) {
        List<String> items = new ArrayList<>();
        add(items, Measure.STUCK_LEADS, OptionalDouble.of(n.stuckLeads()), limits);
        add(items, Measure.SUCCESS_RATE, n.successRatePercent(), limits);
        // all clients' failures together: the failed-runs rule judges the whole platform by the same ranges
        add(items, "failed_runs_24h", Measure.FAILED_RUNS, OptionalDouble.of(n.failedRuns()), limits);
        n.failedRunsMaxPerClient().ifPresent(max -> add(items, Measure.FAILED_RUNS, OptionalDouble.of(max), limits));
        add(items, Measure.HOURS_SINCE_SUCCESS, n.hoursSinceSuccessMax(), limits);
        add(items, Measure.HOURS_SINCE_LAST_RUN, n.hoursSinceLastRun(), limits);
        add(items, Measure.AVERAGE_DURATION, n.averageSeconds(), limits);
        n.peakMemoryMb().ifPresent(mb -> add(items, Measure.PEAK_MEMORY, OptionalDouble.of(mb), limits));
        add(items, Measure.PAUSED_HOURS, n.pausedHours(), limits);
        return String.join(" ", items);
    }

    /** {@code 'label'=value[UOM];warn;crit;min;max}, the ranges in the guidelines' syntax. */
    private static void add(List<String> items, Measure measure, OptionalDouble value, Thresholds limits) {
        add(items, measure.label(), measure, value, limits);
    }

    private static void add(List<String> items, String label, Measure measure, OptionalDouble value, Thresholds limits) {
        Limits l = limits.of(measure);
        value.ifPresent(v -> items.add("'" + label + "'=" + number(v) + measure.unit()
                + ";" + text(l.warning()) + ";" + text(l.critical()) + ";0"
                + (measure.max().isPresent() ? ";" + number(measure.max().getAsDouble()) : "")));
    }

    private static String text(Optional<Range> range) {
        return range.map(Range::toString).orElse("");
    }

    private static String number(double v) {
        return BigDecimal.valueOf(v).setScale(2, RoundingMode.HALF_UP).stripTrailingZeros().toPlainString();
    }

    /** A '|' in the text would start the perfdata. */
    private static String clean(String s) {
        return s.replace('|', '/');
    }
}
