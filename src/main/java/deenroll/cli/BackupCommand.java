package deenroll.cli;

import deenroll.ops.Backups;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "backup", mixinStandardHelpOptions = true,
        description = {"Copy leads and campaigns to leads_backup_YYYYMMDD / campaigns_backup_YYYYMMDD (today in the database's time zone), "
                + "in one snapshot, verified by row count and recorded (time taken, row counts) on leads_backup_YYYYMMDD.",
                "restore and rollback accept only a recorded backup whose tables still have the recorded row counts.",
                "--with-history also copies the run history and lead log (de_enrollment_runs, de_enrollment_lead_log, "
                        + "de_enrollment_runs_archive to <table>_backup_YYYYMMDD), which a rollback of 0021/0022 drops."},
        footerHeading = "%nExamples:%n", footer = {"  deenroll backup                  # before every deploy",
                "  deenroll backup --with-history   # before a rollback"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:backup taken, verified and recorded", "1:backup failed (nothing kept half-done)",
                "2:today's backup exists (use --replace) or usage error", "4:database unreachable or not migrated"})
final class BackupCommand extends OpsCommand {

    @Option(names = "--replace", description = "overwrite today's backup if it exists")
    boolean replace;

    @Option(names = "--with-history", description = "also copy de_enrollment_runs, de_enrollment_lead_log, de_enrollment_runs_archive")
    boolean withHistory;

    @Mixin
    OperationTimeoutOption timeout = new OperationTimeoutOption();

    BackupCommand(CliContext ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        return withDatabase(true, timeout, db -> new Backups(db.dsl()).backup(replace, withHistory));
    }
}
