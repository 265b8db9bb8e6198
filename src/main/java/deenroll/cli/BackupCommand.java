package deenroll.cli;

import deenroll.ops.Backups;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "backup", mixinStandardHelpOptions = true,
        description = "Copy leads and campaigns to leads_backup_YYYYMMDD / campaigns_backup_YYYYMMDD (today in the database's time zone), verified by row count.",
        footerHeading = "%nExample (before every deploy or rollback):%n", footer = "  deenroll backup",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:backup taken and verified", "1:backup failed (nothing kept half-done)",
                "2:today's backup exists (use --replace) or usage error", "4:database unreachable or not migrated"})
final class BackupCommand extends OpsCommand {

    @Option(names = "--replace", description = "overwrite today's backup if it exists")
    boolean replace;

    BackupCommand(CliContext ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        return withDatabase(true, db -> new Backups(db.dsl()).backup(replace));
    }
}
