package deenroll.cli;

import deenroll.config.Config;
import deenroll.explain.Explainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.UUID;

@Command(name = "explain", mixinStandardHelpOptions = true,
        description = {"Why a lead is or is not de-enrolled, condition by condition, and what the next run will do.",
                "The eligibility definition part by part for the lead (is_active, completed_at is null, its campaign, "
                        + "the sequence well-formed and its length, position >= length), each from the SQL routine the "
                        + "engine calls (de_enrollment_is_eligible, de_enrollment_sequence_length), and the outcome it "
                        + "would get (de_enrollment_outcome); whether its campaign's client is active (runs are per client "
                        + "of the campaign); the pause; live invocations on that client; its history and lead-log rows.",
                "Reads only, in one read-only transaction."},
        footerHeading = "%nExamples:%n",
        footer = {"  deenroll explain 123e4567-e89b-12d3-a456-426614174000",
                "  deenroll explain 123e4567-e89b-12d3-a456-426614174000 --output json"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:explanation printed, eligible or not", "1:no lead with this id in this database",
                "2:usage error (LEAD_ID is not a UUID)", "4:database unreachable or not migrated"})
final class ExplainCommand extends OpsCommand {

    @Parameters(paramLabel = "LEAD_ID", description = "the lead's UUID")
    String leadId;

    ExplainCommand(CliContext ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        UUID id = Config.uuid(leadId, "LEAD_ID");
        return withDatabase(true, db -> ExplainFormat.report(new Explainer(db.dsl()).explain(id)));
    }
}
