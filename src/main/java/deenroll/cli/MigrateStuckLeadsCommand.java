package deenroll.cli;

import deenroll.config.Settings;
import deenroll.db.Database;
import deenroll.db.SchemaCheck;
import deenroll.engine.Engine;
import deenroll.engine.StopSignal;
import deenroll.ops.StuckLeadMigration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;

@Command(name = "migrate-stuck-leads", mixinStandardHelpOptions = true,
        description = {"The one-time de-enrollment of leads already past their last message when deenroll is first deployed,",
                "through the same engine (run_type migration), with a report per client and campaign."},
        footerHeading = "%nExamples:%n", footer = {"  deenroll migrate-stuck-leads --dry-run", "  deenroll migrate-stuck-leads --batch-size 500"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:done", "1:a client failed", "2:usage error", "3:the budget ran out, run it again",
                "4:database unreachable or not migrated"})
final class MigrateStuckLeadsCommand extends OpsCommand {

    @Option(names = "--dry-run", description = "report what would be de-enrolled; change nothing")
    boolean dryRun;

    @Option(names = "--batch-size", paramLabel = "N", description = "leads per batch, 1-10000 (env DE_ENROLLMENT_BATCH_SIZE, default 100)")
    String batchSize;

    @Option(names = "--max-runtime", paramLabel = "MS", description = "time budget in ms (env DE_ENROLLMENT_MAX_RUNTIME, default 3600000: one hour)")
    String maxRuntime;

    @Mixin
    OperationTimeoutOption timeout = new OperationTimeoutOption();

    MigrateStuckLeadsCommand(CliContext ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        int batch = ctx.config.get(Settings.BATCH_SIZE, batchSize);
        Duration budget = ctx.config.get(Settings.MIGRATION_MAX_RUNTIME, maxRuntime);
        Duration statementTimeout = ctx.config.get(Settings.OPERATION_TIMEOUT, timeout.value);
        CliContext.Settings settings = ctx.settings(common);
        try (Database db = ctx.open(settings, statementTimeout)) {
            SchemaCheck.requireMigrated(db.dsl());
            Engine engine = Engine.on(db, ctx.alerts(settings, db), ctx.clock, new StopSignal());
            StuckLeadMigration.Result result = new StuckLeadMigration(db.dsl(), engine).run(dryRun, batch, budget,
                    ctx.config.get(Settings.LEASE, null));
            ctx.print(result.report(), common.output);
            return result.invocation().map(RunCommand::exitCode).orElse(ExitCode.OK);
        }
    }
}
