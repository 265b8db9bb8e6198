package deenroll.cli;

import deenroll.ops.Rollback;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "rollback", mixinStandardHelpOptions = true,
        description = {"Run db/rollback scripts down to version N (newest first, one transaction each) and update Flyway's history so `migrate` can re-apply.",
                "Always prints the plan first: per script, the tables, columns, views, functions and indexes it drops, "
                        + "with the rows of data that go with them. Without --yes it changes nothing.",
                "With --yes it needs `deenroll pause` and no invocation running (`deenroll status`), and a backup recorded "
                        + "by `deenroll backup` after the last finished run (--force: without one). "
                        + "A rollback of 0021/0022 drops the run history and lead log: `deenroll backup --with-history` keeps a copy. "
                        + "Host rows are never deleted."},
        footerHeading = "%nExample:%n", footer = {"  deenroll pause --reason \"rollback, INC-42\" && deenroll status",
                "  deenroll backup --with-history",
                "  deenroll rollback --to 20          # the plan",
                "  deenroll rollback --to 20 --yes    # apply it"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:plan printed, or rolled back", "1:a rollback script failed (that step rolled back)",
                "2:not paused, an invocation running, no recorded backup after the last run (use --force), bad --to, or usage error",
                "4:database unreachable"})
final class RollbackCommand extends OpsCommand {

    @Option(names = "--to", required = true, paramLabel = "N", description = "target version: 18 (before deenroll), or a later one below the current version")
    int to;

    @Option(names = "--yes", description = "apply the plan (without it nothing is changed)")
    boolean yes;

    @Option(names = "--force", description = "with --yes: roll back without a recorded backup, or on a schema without a pause (says what it skips)")
    boolean force;

    RollbackCommand(CliContext ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        return withDatabase(false, db -> new Rollback(db.dsl()).to(to, yes, force));
    }
}
