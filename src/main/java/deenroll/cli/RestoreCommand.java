package deenroll.cli;

import deenroll.ops.Restore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "restore", mixinStandardHelpOptions = true,
        description = {"Put back, from a backup taken by `deenroll backup`, only what deenroll changed after it: the leads "
                + "the lead log shows de-enrolled since (is_active, completed_at, campaign_history) and still as that "
                + "de-enrollment left them, and the counters of their campaigns, recomputed by their definition. "
                + "Every change the host application made since is left alone.",
                "After a rollback of 0019/0020 and `migrate`, the re-created columns (their values are the migration's "
                        + "defaults) come back from the backup for every row.",
                "Without --yes: prints the plan (leads and campaigns per client) and changes nothing. With --yes: "
                        + "needs `deenroll pause` and no invocation running (`deenroll status`), restores in one "
                        + "transaction and leaves the pause in force: the restored leads are past their last message, "
                        + "and the next run after `deenroll resume` de-enrolls them again."},
        footerHeading = "%nExample:%n",
        footer = {"  deenroll pause --reason \"restore, INC-42\" && deenroll status",
                "  deenroll restore --from 20261129           # the plan",
                "  deenroll restore --from 20261129 --yes     # apply it"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:plan printed, or restored", "1:restore failed (rolled back, nothing changed)",
                "2:no such backup, not recorded by `deenroll backup` or changed since, not paused, an invocation "
                        + "running, or usage error",
                "4:database unreachable or not migrated"})
final class RestoreCommand extends OpsCommand {

    @Option(names = "--from", required = true, paramLabel = "YYYYMMDD", description = "the day of the backup")
    String from;

    @Option(names = "--yes", description = "apply the plan (without it nothing is changed)")
    boolean yes;

    @Mixin
    OperationTimeoutOption timeout = new OperationTimeoutOption();

    RestoreCommand(CliContext ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        return withDatabase(true, timeout, db -> new Restore(db.dsl()).from(from, yes));
    }
}
