package deenroll.cli;

import deenroll.alert.Alert;
import deenroll.alert.AlertSink;
import deenroll.alert.Severity;
import deenroll.config.UsageException;
import deenroll.db.Database;
import deenroll.db.DatabaseUnavailableException;
import deenroll.db.DbErrors;
import deenroll.db.SchemaCheck;
import deenroll.health.Finding;
import deenroll.health.HealthCheck;
import deenroll.health.HealthReport;
import deenroll.health.Level;
import deenroll.health.Thresholds;
import deenroll.metrics.HealthMetrics;
import deenroll.metrics.MetricsOutputs;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "health-check", mixinStandardHelpOptions = true,
        description = "Evaluate the health rules of the operating procedure (a pause in force included), print ✅/⚠️/❌ lines, alert on WARNING/CRITICAL.",
        footerHeading = "%nExamples:%n",
        footer = {"  deenroll health-check", "  deenroll health-check --output json --stuck-warning 50"},
        exitCodeListHeading = "%nExit codes (Nagios/Icinga plugin convention):%n",
        exitCodeList = {"0:OK", "1:WARNING", "2:CRITICAL",
                "3:UNKNOWN (database unreachable or not migrated, or a bad option)"})
final class HealthCheckCommand implements Callable<Integer> {

    private final CliContext ctx;

    @Mixin
    CommonOptions common = new CommonOptions();

    @Mixin
    MonitoringOptions monitoring = new MonitoringOptions();

    @Option(names = "--format", paramLabel = "FORMAT",
            description = "nagios: the Nagios/Icinga plugin output (status line with perfdata, then the findings); overrides --output")
    HealthFormat format;

    @Option(names = "--stuck-warning", paramLabel = "N", description = "stuck leads above this: WARNING (default ${DEFAULT-VALUE})")
    int stuckWarning = Thresholds.DEFAULTS.stuckWarning();

    @Option(names = "--stuck-critical", paramLabel = "N", description = "stuck leads above this: CRITICAL (default ${DEFAULT-VALUE})")
    int stuckCritical = Thresholds.DEFAULTS.stuckCritical();

    @Option(names = "--stuck-grace-minutes", paramLabel = "MIN", description = "an eligible lead idle longer than this is stuck (default ${DEFAULT-VALUE})")
    int stuckGraceMinutes = (int) Thresholds.DEFAULTS.stuckGrace().toMinutes();

    @Option(names = "--max-hours-since-success", paramLabel = "H", description = "CRITICAL when an active client's last success is older (default ${DEFAULT-VALUE})")
    double maxHoursSinceSuccess = Thresholds.DEFAULTS.maxHoursSinceSuccess();

    @Option(names = "--no-run-hours", paramLabel = "H", description = "CRITICAL when no run at all in this many hours (default ${DEFAULT-VALUE})")
    int noRunHours = (int) Thresholds.DEFAULTS.noRunWindow().toHours();

    @Option(names = "--min-success-rate", paramLabel = "PCT", description = "WARNING below this 24h success rate (default ${DEFAULT-VALUE})")
    double minSuccessRate = Thresholds.DEFAULTS.minSuccessRatePercent();

    @Option(names = "--max-failed-runs", paramLabel = "N", description = "WARNING when a client has more failed runs in 24h (default ${DEFAULT-VALUE})")
    int maxFailedRuns = Thresholds.DEFAULTS.maxFailedRuns();

    @Option(names = "--max-average-minutes", paramLabel = "MIN", description = "WARNING when the average processing time is above (default ${DEFAULT-VALUE})")
    int maxAverageMinutes = (int) Thresholds.DEFAULTS.maxAverageDuration().toMinutes();

    @Option(names = "--max-memory-mb", paramLabel = "MB", description = "WARNING when a run's peak memory is above (default ${DEFAULT-VALUE})")
    int maxMemoryMb = Thresholds.DEFAULTS.maxPeakMemoryMb();

    @Option(names = "--max-pause-hours", paramLabel = "H", description = "a pause (deenroll pause) is WARNING; CRITICAL when older than this (default ${DEFAULT-VALUE})")
    int maxPauseHours = (int) Thresholds.DEFAULTS.maxPause().toHours();

    private static final String JOB = "deenroll_health";
    private static final String CONDITION = "health";

    HealthCheckCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        Thresholds limits = thresholds();
        CliContext.Settings settings = ctx.settings(common);
        MetricsOutputs metrics = ctx.metrics(monitoring);
        Database db = null;
        HealthReport report;
        try {
            db = ctx.open(settings);
            SchemaCheck.requireMigrated(db.dsl());
            report = new HealthCheck(db.dsl(), limits).evaluate();
        } catch (DatabaseUnavailableException e) {
            report = new HealthReport(List.of(new Finding(Level.UNKNOWN, "database", e.getMessage())), Map.of());
        } catch (RuntimeException e) {
            report = new HealthReport(List.of(new Finding(Level.UNKNOWN, "database",
                    "health check failed: " + DbErrors.describe(e))), Map.of());
        }
        try {
            print(report, limits);
            if (metrics.any()) {
                metrics.publish(JOB, HealthMetrics.of(report, ctx.clock.instant()));
            }
            alert(report, ctx.alerts(settings, db));
        } finally {
            if (db != null) {
                db.close();
            }
        }
        return report.level().exitCode();
    }

    /** One condition, "health": repeated at most every --alert-repeat minutes (sooner when worse), resolved on OK. */
    private static void alert(HealthReport report, AlertSink alerts) {
        Level level = report.level();
        if (level == Level.OK) {
            alerts.resolve(List.of(CONDITION));
            return;
        }
        alerts.send(new Alert(level == Level.CRITICAL ? Severity.CRITICAL : Severity.WARNING, CONDITION,
                "De-enrollment health " + level + ": " + report.problems().get(0).message(),
                Map.of("status", level.name(),
                        "problems", report.problems().stream().map(Finding::message).toList(),
                        "metrics", report.metrics(),
                        Alert.NEXT_STEP, nextStep(report))));
    }

    private static String nextStep(HealthReport report) {
        if (report.level() == Level.UNKNOWN) {
            return "check that the database is reachable and migrated: deenroll verify";
        }
        String findings = "see the findings; deenroll report daily shows the failed runs and their errors,"
                + " deenroll verify the stuck leads";
        return report.paused()
                ? "deenroll resume ends the pause once the work that needed it is done (deenroll status shows what"
                        + " still runs); " + findings
                : findings;
    }

    private Thresholds thresholds() {
        requirePositive(stuckWarning, "--stuck-warning");
        requirePositive(stuckCritical, "--stuck-critical");
        requirePositive(stuckGraceMinutes, "--stuck-grace-minutes");
        requirePositive(noRunHours, "--no-run-hours");
        requirePositive(maxAverageMinutes, "--max-average-minutes");
        requirePositive(maxMemoryMb, "--max-memory-mb");
        requirePositive(maxPauseHours, "--max-pause-hours");
        if (stuckCritical < stuckWarning) {
            throw new UsageException("--stuck-critical: must be at least --stuck-warning");
        }
        if (minSuccessRate < 0 || minSuccessRate > 100) {
            throw new UsageException("--min-success-rate: expected a percentage from 0 to 100");
        }
        if (maxHoursSinceSuccess <= 0 || maxFailedRuns < 0) {
            throw new UsageException("--max-hours-since-success and --max-failed-runs: expected positive numbers");
        }
        return new Thresholds(Duration.ofHours(noRunHours), maxHoursSinceSuccess, minSuccessRate, maxFailedRuns,
                stuckWarning, stuckCritical, Duration.ofMinutes(stuckGraceMinutes),
                Duration.ofMinutes(maxAverageMinutes), maxMemoryMb, Duration.ofHours(maxPauseHours));
    }

    private static void requirePositive(int value, String option) {
        if (value < 0) {
            throw new UsageException(option + ": expected a number >= 0");
        }
    }

    private void print(HealthReport report, Thresholds limits) {
        HealthFormat shown = format != null ? format
                : common.output == OutputFormat.json ? HealthFormat.json : HealthFormat.text;
        if (shown == HealthFormat.nagios) {
            NagiosOutput.lines(report, limits).forEach(ctx.out::println);
            ctx.out.flush();
            return;
        }
        if (shown == HealthFormat.json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("status", report.level().name());
            doc.put("exitCode", report.level().exitCode());
            doc.put("findings", report.findings().stream().map(f -> Map.of(
                    "level", f.level().name(), "rule", f.rule(), "message", f.message())).toList());
            doc.put("metrics", report.metrics());
            ctx.printJson(doc);
            return;
        }
        ctx.out.println("De-enrollment health: " + report.level());
        report.findings().forEach(f -> ctx.out.println(f.line()));
        ctx.out.flush();
    }
}
