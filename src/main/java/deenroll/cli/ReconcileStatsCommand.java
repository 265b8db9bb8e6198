package deenroll.cli;

import deenroll.ops.Reconcile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "reconcile-stats", mixinStandardHelpOptions = true,
        description = "Recompute the four campaign counters from their definition, in one transaction that is safe while runs are in progress.",
        footerHeading = "%nExamples:%n", footer = {"  deenroll reconcile-stats --dry-run", "  deenroll reconcile-stats"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:done (or, with --dry-run, drift listed)", "1:failed (nothing written)", "2:usage error",
                "4:database unreachable or not migrated"})
final class ReconcileStatsCommand extends OpsCommand {

    @Option(names = "--dry-run", description = "list each campaign's drift (reported vs actual) without writing")
    boolean dryRun;

    ReconcileStatsCommand(CliContext ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        return withDatabase(true, db -> new Reconcile(db.dsl()).run(dryRun));
    }
}
