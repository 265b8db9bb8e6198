package deenroll.cli;

import deenroll.ops.Rollback;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "rollback", mixinStandardHelpOptions = true,
        description = {"Run db/rollback scripts down to version N (newest first, one transaction each) and update Flyway's history so `migrate` can re-apply.",
                "Refuses unless today's backup exists (`deenroll backup`). Host rows are never deleted."},
        footerHeading = "%nExample:%n", footer = {"  deenroll backup && deenroll rollback --to 20"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:rolled back", "1:a rollback script failed (that step rolled back)",
                "2:no backup from today (use --force), bad --to, or usage error", "4:database unreachable"})
final class RollbackCommand extends OpsCommand {

    @Option(names = "--to", required = true, paramLabel = "N", description = "target version: 18 (before deenroll), or a later one below the current version")
    int to;

    @Option(names = "--force", description = "roll back without a backup from today (says what it skips)")
    boolean force;

    RollbackCommand(CliContext ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        return withDatabase(false, db -> new Rollback(db.dsl()).to(to, force));
    }
}
