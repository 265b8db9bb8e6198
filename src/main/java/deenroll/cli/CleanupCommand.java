package deenroll.cli;

import deenroll.config.Settings;
import deenroll.ops.Cleanup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "cleanup", mixinStandardHelpOptions = true,
        description = {"Monthly maintenance: move old runs to de_enrollment_runs_archive and delete old lead-log rows "
                + "(one transaction), drop backups older than --backup-days except the newest (a second one), "
                + "then VACUUM ANALYZE the runs and the lead log (outside any transaction: PostgreSQL refuses it inside one)."},
        footerHeading = "%nExamples:%n", footer = {"  deenroll cleanup --dry-run", "  deenroll cleanup --runs-days 90 --lead-log-days 30"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:done",
                "1:failed (stderr: the database's error). If the move and delete failed, they rolled back: nothing changed. "
                        + "If dropping backups failed, the move and delete are committed and no backup is dropped. "
                        + "If VACUUM ANALYZE failed, everything before it is committed (it runs after the commits): "
                        + "run cleanup again, it finds nothing more to move",
                "2:usage error", "4:database unreachable or not migrated"})
final class CleanupCommand extends OpsCommand {

    @Option(names = "--runs-days", paramLabel = "DAYS",
            description = "archive runs older than this (env DE_ENROLLMENT_CLEANUP_RUNS_DAYS, default 90)")
    String runsDays;

    @Option(names = "--lead-log-days", paramLabel = "DAYS",
            description = "delete lead-log rows older than this (env DE_ENROLLMENT_CLEANUP_LEAD_LOG_DAYS, default 30)")
    String leadLogDays;

    @Option(names = "--backup-days", paramLabel = "DAYS",
            description = "drop backups older than this, never the newest; at least 30 (env DE_ENROLLMENT_CLEANUP_BACKUP_DAYS, default 30)")
    String backupDays;

    @Option(names = "--dry-run", description = "say what would be done, change nothing")
    boolean dryRun;

    @Mixin
    OperationTimeoutOption timeout = new OperationTimeoutOption();

    CleanupCommand(CliContext ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        int runs = ctx.config.get(Settings.CLEANUP_RUNS_DAYS, runsDays);
        int leadLog = ctx.config.get(Settings.CLEANUP_LEAD_LOG_DAYS, leadLogDays);
        int backups = ctx.config.get(Settings.CLEANUP_BACKUP_DAYS, backupDays);
        return withDatabase(true, timeout, db -> new Cleanup(db.dsl()).run(runs, leadLog, backups, dryRun));
    }
}
