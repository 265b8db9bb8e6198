package deenroll.cli;

import deenroll.ops.Backups;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "restore", mixinStandardHelpOptions = true,
        description = {"Put back the de-enrollment state (leads: is_active, completed_at, campaign_history; campaigns: flags and counters) from a backup, in one transaction.",
                "Restore BEFORE rolling back 0019/0020 (or after `migrate` re-added the columns): the rollback drops the columns restored here."},
        footerHeading = "%nExample:%n", footer = "  deenroll restore --from 20261129",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:restored", "1:restore failed (rolled back, nothing changed)",
                "2:no such backup, its columns do not fit, or usage error", "4:database unreachable or not migrated"})
final class RestoreCommand extends OpsCommand {

    @Option(names = "--from", required = true, paramLabel = "YYYYMMDD", description = "the day of the backup")
    String from;

    RestoreCommand(CliContext ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        return withDatabase(false, db -> new Backups(db.dsl()).restore(from));
    }
}
