package deenroll.cli;

import deenroll.alert.Alert;
import deenroll.alert.AlertSink;
import deenroll.alert.Severity;
import deenroll.config.Settings;
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
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "health-check", mixinStandardHelpOptions = true, usageHelpWidth = 120,
        description = "Evaluate the health rules of the operating procedure (a pause in force included), print ✅/⚠️/❌ lines, alert on WARNING/CRITICAL.",
        footerHeading = "%nExamples:%n",
        footer = {"  deenroll health-check", "  deenroll health-check --output json -w stuck_leads=50",
                "  deenroll health-check --format nagios -t 30 -w success_rate_24h=90: -c success_rate_24h=50:"},
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

    @Mixin
    ThresholdOptions thresholds = new ThresholdOptions();

    @Option(names = {"-t", "--timeout"}, paramLabel = "SECONDS",
            description = "give up after this many seconds and exit 3 UNKNOWN, as a Nagios plugin does (default: no limit)")
    String timeoutSeconds;

    private static final String JOB = "deenroll_health";
    private static final String CONDITION = "health";

    HealthCheckCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    /** The command with the list of measures, their labels and default ranges, in its help. */
    static CommandLine command(CliContext ctx) {
        CommandLine cli = new CommandLine(new HealthCheckCommand(ctx));
        var usage = cli.getCommandSpec().usageMessage();
        List<String> footer = new ArrayList<>(List.of(usage.footer()));
        footer.addAll(List.of("", "Measures (-w/-c LABEL=RANGE), their default warning and critical range:"));
        footer.addAll(List.of(ThresholdOptions.measuresHelp()));
        footer.addAll(List.of("RANGE is [@][start:][end] (monitoring-plugins): 10 alerts above 10, 10: below 10,"
                        + " ~:10 above 10, 10:20 outside 10..20,",
                "@10:20 inside it; in the measure's unit. Perfdata carries each measure with its ranges.",
                "Each range is also read from DE_ENROLLMENT_WARNING_<LABEL> / DE_ENROLLMENT_CRITICAL_<LABEL> when its option"
                        + " is absent (DE_ENROLLMENT_CRITICAL_STUCK_LEADS=200)."));
        usage.footer(footer.toArray(String[]::new));
        return cli;
    }

    @Override
    public Integer call() {
        Thresholds limits = thresholds.thresholds(ctx.config);
        Optional<Duration> timeout = ctx.config.get(Settings.HEALTH_TIMEOUT, timeoutSeconds);
        CliContext.Settings base = ctx.settings(common);
        CliContext.Settings settings = timeout.map(base::within).orElse(base);
        MetricsOutputs metrics = ctx.metrics(monitoring);
        Evaluation evaluation = new Evaluation(settings, limits);
        Optional<HealthReport> evaluated = TimeLimit.run(timeout, evaluation::evaluate);
        HealthReport report = evaluated.orElseGet(() -> HealthReport.unmeasured(new Finding(Level.UNKNOWN, "timeout",
                "health check did not finish within " + timeout.orElseThrow().toSeconds() + " s (-t/--timeout)")));
        // after a timeout the database stays with the evaluation, which closes it once its statement is cancelled
        Database db = evaluated.isPresent() ? evaluation.database() : null;
        if (evaluated.isEmpty()) {
            evaluation.abandon();
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

    /** Opening the database and evaluating the rules: the part a timeout cuts short. */
    private final class Evaluation {
        private final CliContext.Settings settings;
        private final Thresholds limits;
        private Database db;
        private boolean finished;
        private boolean abandoned;

        Evaluation(CliContext.Settings settings, Thresholds limits) {
            this.settings = settings;
            this.limits = limits;
        }

        HealthReport evaluate() {
            try {
                Database opened = ctx.open(settings);
                synchronized (this) {
                    db = opened;
                }
                SchemaCheck.requireMigrated(opened.dsl());
                return new HealthCheck(opened.dsl(), limits).evaluate();
            } catch (DatabaseUnavailableException e) {
                return HealthReport.unmeasured(new Finding(Level.UNKNOWN, "database", e.getMessage()));
            } catch (RuntimeException e) {
                return HealthReport.unmeasured(new Finding(Level.UNKNOWN, "database",
                        "health check failed: " + DbErrors.describe(e)));
            } finally {
                synchronized (this) {
                    finished = true;
                    if (abandoned && db != null) {
                        db.close();
                    }
                }
            }
        }

        /** The database the evaluation opened (null when it could not): the alerts' de-duplication uses it. */
        synchronized Database database() {
            return db;
        }

        /** Leaves the database to the evaluation still running, which closes it when it ends. */
        synchronized void abandon() {
            abandoned = true;
            if (finished && db != null) {
                db.close();
            }
        }
    }

    /** One condition, "health": repeated at most every --alert-repeat minutes (sooner when worse), resolved on OK. */
    private static void alert(HealthReport report, AlertSink alerts) {
        Level level = report.level();
        if (level == Level.OK) {
            alerts.resolve(List.of(CONDITION));
            return;
        }
        // each problem with its client's id and its own next step: the alert is what on-call acts on
        alerts.send(new Alert(level == Level.CRITICAL ? Severity.CRITICAL : Severity.WARNING, CONDITION,
                "De-enrollment health " + level + ": " + report.problems().get(0).message(),
                Map.of("status", level.name(),
                        "problems", report.problems().stream().map(Finding::text).toList(),
                        "findings", report.problems().stream().map(Finding::json).toList(),
                        "metrics", report.metrics(),
                        Alert.NEXT_STEP, nextStep(report))));
    }

    private static String nextStep(HealthReport report) {
        if (report.level() == Level.UNKNOWN) {
            return "check that the database is reachable and migrated: deenroll verify";
        }
        String findings = report.problems().get(0).nextStep()
                .map(step -> step + "; for the other findings: ").orElse("see the findings; ")
                + "deenroll report daily shows the failed runs and their errors,"
                + " deenroll verify the stuck leads";
        return report.paused()
                ? "deenroll resume ends the pause once the work that needed it is done (deenroll status shows what"
                        + " still runs); " + findings
                : findings;
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
            doc.put("findings", report.findings().stream().map(Finding::json).toList());
            doc.put("metrics", report.metrics());
            ctx.printJson(doc);
            return;
        }
        ctx.out.println("De-enrollment health: " + report.level());
        report.findings().forEach(f -> ctx.out.println(f.line()));
        ctx.out.flush();
    }
}
