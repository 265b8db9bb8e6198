package deenroll.cli;

import deenroll.health.Finding;
import deenroll.health.HealthNumbers;
import deenroll.health.HealthReport;
import deenroll.health.Thresholds;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

/**
 * A health report as a Nagios/Icinga plugin prints it: the first line is
 * {@code STATUS: text | perfdata}, with each number's warning and critical
 * thresholds; the findings follow as the long output. Exit codes are the
 * report's own.
 */
final class NagiosOutput {

    private NagiosOutput() {
    }

    static List<String> lines(HealthReport report, Thresholds limits) {
        List<Finding> problems = report.problems();
        String text = problems.isEmpty()
                ? report.findings().stream().map(Finding::message).findFirst().orElse("no findings")
                : problems.get(0).message() + (problems.size() > 1 ? " (+" + (problems.size() - 1) + " more)" : "");
        String perfdata = perfdata(new HealthNumbers(report), limits);
        List<String> lines = new ArrayList<>();
        lines.add(report.level().name() + ": " + clean(text) + (perfdata.isEmpty() ? "" : " | " + perfdata));
        report.findings().forEach(f -> lines.add(clean(f.line())));
        return lines;
    }

    private static String perfdata(HealthNumbers n, Thresholds limits) {
        List<String> items = new ArrayList<>();
        add(items, "stuck_leads", n.stuckLeads(), "", limits.stuckWarning() + ";" + limits.stuckCritical() + ";0");
        // "95:" is Nagios' range for "alert below 95"
        add(items, "success_rate_24h", n.successRatePercent(), "%", number(limits.minSuccessRatePercent()) + ":;;0;100");
        add(items, "failed_runs_24h", n.failedRuns(), "", ";;0");
        add(items, "hours_since_success_max", n.hoursSinceSuccessMax(), "", ";" + number(limits.maxHoursSinceSuccess()) + ";0");
        add(items, "average_run_duration_24h", n.averageSeconds(), "s", limits.maxAverageDuration().toSeconds() + ";;0");
        add(items, "peak_memory_24h", n.peakMemoryMb(), "MB", limits.maxPeakMemoryMb() + ";;0");
        return String.join(" ", items);
    }

    private static void add(List<String> items, String label, OptionalDouble value, String uom, String thresholds) {
        value.ifPresent(v -> items.add("'" + label + "'=" + number(v) + uom + ";" + thresholds));
    }

    private static String number(double v) {
        return BigDecimal.valueOf(v).setScale(2, RoundingMode.HALF_UP).stripTrailingZeros().toPlainString();
    }

    /** A '|' in the text would start the perfdata. */
    private static String clean(String s) {
        return s.replace('|', '/');
    }
}
