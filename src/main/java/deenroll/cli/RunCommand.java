package deenroll.cli;

import deenroll.config.Config;
import deenroll.config.Settings;
import deenroll.config.UsageException;
import deenroll.control.Pauses;
import deenroll.db.Database;
import deenroll.db.SchemaCheck;
import deenroll.engine.Engine;
import deenroll.engine.Invocation;
import deenroll.engine.RunRequest;
import deenroll.engine.InvocationStatus;
import deenroll.engine.RunType;
import deenroll.engine.StopSignal;
import deenroll.health.HealthCheck;
import deenroll.health.Thresholds;
import deenroll.http.HttpDelivery;
import deenroll.metrics.MetricsOutputs;
import deenroll.ping.DeadManSwitch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.function.IntSupplier;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = "De-enroll leads that finished their sequence: all active clients (run_type scheduled), or one with --client-id (manual).",
        footerHeading = "%nExamples:%n",
        footer = {"  deenroll run --output json", "  deenroll run --client-id 123e4567-e89b-12d3-a456-426614174000 --dry-run"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:everything processed", "1:at least one client failed",
                "2:usage or configuration error (nothing touched)", "3:time budget ran out with work left (partial)",
                "4:database unreachable or not migrated"})
final class RunCommand implements Callable<Integer> {

    private final CliContext ctx;

    @Mixin
    CommonOptions common = new CommonOptions();

    @Mixin
    RunOptions options = new RunOptions();

    @Mixin
    MonitoringOptions monitoringOptions = new MonitoringOptions();

    RunCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        return execute(ctx, common, options, monitoringOptions);
    }

    static int execute(CliContext ctx, CommonOptions common, RunOptions options, MonitoringOptions monitoringOptions) {
        Optional<UUID> clientId = Optional.ofNullable(options.clientId).map(Config::clientId);
        if (clientId.isPresent() && options.allClients) {
            throw new UsageException("--client-id and --all-clients: give one or the other");
        }
        int batchSize = ctx.config.get(Settings.BATCH_SIZE, options.batchSize);
        Duration budget = ctx.config.get(Settings.MAX_RUNTIME, options.maxRuntime);
        // the stuck leads of the run's metrics are health-check's: the same grace
        Thresholds stuck = new Thresholds(Map.of(), ctx.config.get(Settings.STUCK_GRACE, null));
        CliContext.Settings settings = ctx.settings(common);
        RunRequest request = new RunRequest(clientId, clientId.isPresent() ? RunType.MANUAL : RunType.SCHEDULED,
                batchSize, budget, ctx.config.get(Settings.LEASE, options.lease), options.ignorePause, options.dryRun);
        UUID invocationId = UUID.randomUUID();
        RunMonitoring monitoring = monitoring(ctx, options, monitoringOptions, invocationId);

        monitoring.started();
        try (Database db = ctx.open(settings)) {
            SchemaCheck.requireMigrated(db.dsl());
            StopSignal stop = new StopSignal();
            Optional<ProgressLine> progress = ctx.stderrIsTerminal ? Optional.of(new ProgressLine(ctx.err)) : Optional.empty();
            Engine quiet = Engine.on(db, ctx.alerts(settings, db), ctx.clock, stop);
            Engine engine = progress.map(quiet::reporting).orElse(quiet);
            if (clientId.isPresent() && engine.client(clientId.get()).isEmpty()) {
                throw new UsageException("--client-id: no client " + clientId.get() + " in this database");
            }
            IntSupplier work = () -> {
                Invocation invocation;
                try {
                    invocation = engine.run(invocationId, request);
                } finally {
                    progress.ifPresent(ProgressLine::clear);
                }
                if (invocation.status() == InvocationStatus.PAUSED && invocation.clients().isEmpty()) {
                    ctx.err.println("deenroll: " + new Pauses(db.dsl()).current().map(p -> "paused " + p.since()).orElse("paused")
                            + ": nothing was started; `deenroll resume` ends the pause, --ignore-pause runs anyway");
                    ctx.err.flush();
                }
                int exit = exitCode(invocation);
                RunReport.print(ctx, common.output, invocation, exit);
                // inside the SIGTERM guard: a stopped run still reports before the process ends
                monitoring.finished(invocation, exit, () -> new HealthCheck(db.dsl(), stuck).stuckLeads());
                return exit;
            };
            return ctx.standalone ? SigtermGuard.run(stop, work) : work.getAsInt();
        } catch (RuntimeException e) {
            monitoring.failed(ExitCode.of(e), ExitCode.message(e));
            throw e;
        }
    }

    private static RunMonitoring monitoring(CliContext ctx, RunOptions options, MonitoringOptions monitoringOptions,
                                            UUID invocationId) {
        MetricsOutputs metrics = ctx.metrics(monitoringOptions);
        Optional<DeadManSwitch> ping = ctx.config.get(Settings.PING_URL, options.pingUrl)
                .map(url -> new DeadManSwitch(url, HttpDelivery.standard()));
        if (options.dryRun) {
            return new RunMonitoring(invocationId, Optional.empty(), new MetricsOutputs(Optional.empty(), Optional.empty()), ctx.clock);
        }
        return new RunMonitoring(invocationId, ping, metrics, ctx.clock);
    }

    static int exitCode(Invocation invocation) {
        if (invocation.anyFailed()) {
            return ExitCode.FAILED;
        }
        return invocation.status() == InvocationStatus.PARTIAL ? ExitCode.PARTIAL : ExitCode.OK;
    }
}
