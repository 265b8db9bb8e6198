package deenroll.metrics;

import deenroll.cli.ExitCode;
import deenroll.engine.RunStatus;
import deenroll.health.Level;
import deenroll.health.Measure;
import deenroll.health.Thresholds;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The numbers of deploy/prometheus/deenroll.rules.yml are the health check's
 * (Thresholds.DEFAULTS) and our codes, in Prometheus' units: this fails when
 * one side changes without the other. promtool checks the file's syntax and
 * behaviour (deploy/prometheus/test.sh); this reads only its alerts' names,
 * exprs and fors, one per line, as the file writes them.
 */
class AlertRulesTest {

    private static final Path RULES = Path.of("deploy/prometheus/deenroll.rules.yml");
    private static final Pattern COMPARED = Pattern.compile("(?:[<>]=?|==)\\s*(-?[0-9.]+)");
    private static final Thresholds T = Thresholds.DEFAULTS;

    record Rule(String expr, Duration pending) {
    }

    @Test
    void everyAlertsNumbersAreTheHealthChecksThresholdsOrOurCodes() throws IOException {
        Map<String, Rule> rules = rules();
        Map<String, List<Double>> expected = new LinkedHashMap<>();
        expected.put("DeenrollNoRecentRun", List.of(critical(Measure.HOURS_SINCE_LAST_RUN) * 3600));
        expected.put("DeenrollMetricsAbsent", List.of());
        expected.put("DeenrollNoRecentSuccess", List.of(critical(Measure.HOURS_SINCE_SUCCESS) * 3600));
        expected.put("DeenrollClientWithoutSuccess", List.of(critical(Measure.HOURS_SINCE_SUCCESS)));
        expected.put("DeenrollClientRunFailed", List.of((double) RunMetrics.statusValue(RunStatus.FAILED)));
        expected.put("DeenrollFailedRuns24h", List.of(warning(Measure.FAILED_RUNS)));
        expected.put("DeenrollSuccessRateLow", List.of(T.of(Measure.SUCCESS_RATE).warning().orElseThrow().floor().orElseThrow()));
        expected.put("DeenrollStuckLeads", List.of(warning(Measure.STUCK_LEADS), critical(Measure.STUCK_LEADS)));
        expected.put("DeenrollStuckLeadsCritical", List.of(critical(Measure.STUCK_LEADS)));
        expected.put("DeenrollRunsNearBudget", List.of(warning(Measure.AVERAGE_DURATION)));
        expected.put("DeenrollBudgetRanOut", List.of((double) ExitCode.PARTIAL));
        expected.put("DeenrollPeakMemoryHigh", List.of(warning(Measure.PEAK_MEMORY) * HealthMetrics.MIB));
        expected.put("DeenrollPaused", List.of(0.0, critical(Measure.PAUSED_HOURS) * 3600));
        expected.put("DeenrollPausedTooLong", List.of(critical(Measure.PAUSED_HOURS) * 3600));
        expected.put("DeenrollHealthUnknown", List.of((double) Level.UNKNOWN.exitCode()));

        assertThat(rules.keySet()).as("every alert has its numbers checked here").containsExactlyElementsOf(expected.keySet());
        expected.forEach((alert, numbers) ->
                assertThat(compared(rules.get(alert).expr())).as(alert + ": " + rules.get(alert).expr()).isEqualTo(numbers));
    }

    @Test
    void theMetricsAbsentAlertWaitsTheNoRunWindow() throws IOException {
        assertThat(rules().get("DeenrollMetricsAbsent").pending().toMillis() / 1000.0)
                .isEqualTo(critical(Measure.HOURS_SINCE_LAST_RUN) * 3600);
    }

    /** The upper end of a measure's default warning range (it alerts above it). */
    private static double warning(Measure measure) {
        return T.of(measure).warning().orElseThrow().ceiling().orElseThrow();
    }

    /** The upper end of a measure's default critical range. */
    private static double critical(Measure measure) {
        return T.of(measure).critical().orElseThrow().ceiling().orElseThrow();
    }

    private static List<Double> compared(String expr) {
        Matcher m = COMPARED.matcher(expr);
        return m.results().map(r -> Double.parseDouble(r.group(1))).toList();
    }

    private static Map<String, Rule> rules() throws IOException {
        Map<String, Rule> rules = new LinkedHashMap<>();
        String alert = null;
        String expr = null;
        Duration pending = Duration.ZERO;
        for (String line : Files.readAllLines(RULES)) {
            String t = line.strip();
            if (t.startsWith("- alert: ")) {
                if (alert != null) {
                    rules.put(alert, new Rule(expr, pending));
                }
                alert = t.substring("- alert: ".length());
                expr = null;
                pending = Duration.ZERO;
            } else if (t.startsWith("expr: ")) {
                expr = t.substring("expr: ".length());
            } else if (t.startsWith("for: ")) {
                pending = duration(t.substring("for: ".length()));
            }
        }
        if (alert != null) {
            rules.put(alert, new Rule(expr, pending));
        }
        return rules;
    }

    /** A Prometheus duration of one unit, as the file writes them (2h, 90m). */
    private static Duration duration(String value) {
        long n = Long.parseLong(value.substring(0, value.length() - 1));
        return switch (value.charAt(value.length() - 1)) {
            case 's' -> Duration.ofSeconds(n);
            case 'm' -> Duration.ofMinutes(n);
            case 'h' -> Duration.ofHours(n);
            case 'd' -> Duration.ofDays(n);
            default -> throw new IllegalArgumentException("duration " + value);
        };
    }
}
