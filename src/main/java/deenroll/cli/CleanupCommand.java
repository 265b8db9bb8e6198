package deenroll.cli;

import deenroll.ops.Cleanup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "cleanup", mixinStandardHelpOptions = true,
        description = "Monthly maintenance: move old runs to de_enrollment_runs_archive, delete old lead-log rows, VACUUM ANALYZE both.",
        footerHeading = "%nExamples:%n", footer = {"  deenroll cleanup --dry-run", "  deenroll cleanup --runs-days 90 --lead-log-days 30"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:done", "1:failed (the move and delete rolled back)", "2:usage error", "4:database unreachable or not migrated"})
final class CleanupCommand extends OpsCommand {

    @Option(names = "--runs-days", paramLabel = "DAYS", description = "archive runs older than this (default: ${DEFAULT-VALUE})")
    int runsDays = 90;

    @Option(names = "--lead-log-days", paramLabel = "DAYS", description = "delete lead-log rows older than this (default: ${DEFAULT-VALUE})")
    int leadLogDays = 30;

    @Option(names = "--dry-run", description = "say what would be done, change nothing")
    boolean dryRun;

    CleanupCommand(CliContext ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        return withDatabase(true, db -> new Cleanup(db.dsl()).run(runsDays, leadLogDays, dryRun));
    }
}
