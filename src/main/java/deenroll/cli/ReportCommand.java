package deenroll.cli;

import deenroll.config.Config;
import deenroll.health.Thresholds;
import deenroll.ops.Reports;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** `report daily | weekly | lead <uuid> | indexes`. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "The operating procedure's reports.",
        footerHeading = "%nExamples:%n",
        footer = {"  deenroll report daily", "  deenroll report weekly --output json",
                "  deenroll report lead 123e4567-e89b-12d3-a456-426614174000", "  deenroll report indexes"})
final class ReportCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "report: give one of daily, weekly, lead <uuid>, indexes");
    }

    @Command(name = "daily", mixinStandardHelpOptions = true,
            description = {"The morning check: runs, successes, failures, partials and leads processed in 24 h; clients needing attention; stuck leads.",
                    "Needs attention is health-check's verdict, by the same thresholds: give both the same -w/-c options or DE_ENROLLMENT_WARNING_/CRITICAL_ variables."},
            footerHeading = "%nExample:%n", footer = "  deenroll report daily --output json",
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:nothing needs attention", "1:a client needs attention or leads are stuck", "4:database unreachable or not migrated"})
    static final class Daily extends OpsCommand {
        /** health-check's: the two never disagree about whether something needs attention. */
        @Mixin
        ThresholdOptions thresholds = new ThresholdOptions();

        Daily(CliContext ctx) {
            super(ctx);
        }

        @Override
        public Integer call() {
            Thresholds limits = thresholds.thresholds(ctx.config);
            return withDatabase(true, db -> new Reports(db.dsl()).daily(limits));
        }
    }

    @Command(name = "weekly", mixinStandardHelpOptions = true,
            description = "The weekly review: per day runs, successes, leads processed, average duration; table sizes; top errors.",
            footerHeading = "%nExample:%n", footer = "  deenroll report weekly",
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:report printed", "2:usage error", "4:database unreachable or not migrated"})
    static final class Weekly extends OpsCommand {
        Weekly(CliContext ctx) {
            super(ctx);
        }

        @Override
        public Integer call() {
            return withDatabase(true, db -> new Reports(db.dsl()).weekly());
        }
    }

    @Command(name = "lead", mixinStandardHelpOptions = true,
            description = "One lead's story: its history entries and its lead-log rows with their runs.",
            footerHeading = "%nExample:%n", footer = "  deenroll report lead 123e4567-e89b-12d3-a456-426614174000",
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:report printed", "2:not a UUID, or no such lead", "4:database unreachable or not migrated"})
    static final class Lead extends OpsCommand {
        @Parameters(paramLabel = "LEAD_ID", description = "the lead's UUID")
        String leadId;

        Lead(CliContext ctx) {
            super(ctx);
        }

        @Override
        public Integer call() {
            var id = Config.uuid(leadId, "LEAD_ID");
            return withDatabase(true, db -> new Reports(db.dsl()).lead(id));
        }
    }

    @Command(name = "indexes", mixinStandardHelpOptions = true,
            description = "Index usage of the de-enrollment tables (the quarterly review).",
            footerHeading = "%nExample:%n", footer = "  deenroll report indexes",
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:report printed", "2:usage error", "4:database unreachable or not migrated"})
    static final class Indexes extends OpsCommand {
        Indexes(CliContext ctx) {
            super(ctx);
        }

        @Override
        public Integer call() {
            return withDatabase(true, db -> new Reports(db.dsl()).indexes());
        }
    }
}
