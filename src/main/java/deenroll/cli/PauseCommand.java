package deenroll.cli;

import deenroll.config.UsageException;
import deenroll.control.Operator;
import deenroll.control.Pause;
import deenroll.control.PauseResult;
import deenroll.control.Pauses;
import deenroll.control.Timestamps;
import deenroll.ops.OpsReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Command(name = "pause", mixinStandardHelpOptions = true,
        description = {"Pause de-enrollment on this database, for every host: runs in flight stop at their next batch and "
                + "close their runs partial; new runs exit 0 with status \"paused\" until `deenroll resume`.",
                "The pause is kept in the database with who paused, when and why; health-check reports it "
                        + "(WARNING, CRITICAL after --max-pause-hours). A pause already in force is left as it is."},
        footerHeading = "%nExamples:%n",
        footer = {"  deenroll pause --reason \"restore of leads from backup, ticket OPS-123\"",
                "  deenroll status        # until no invocation is running"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:paused (now, or already)", "2:usage error (--reason missing or blank)",
                "4:database unreachable or not migrated"})
final class PauseCommand extends OpsCommand {

    @Option(names = "--reason", required = true, paramLabel = "TEXT",
            description = "why; kept with the pause and shown by status and health-check")
    String reason;

    PauseCommand(CliContext ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        if (reason.isBlank()) {
            throw new UsageException("--reason: say why de-enrollment is paused (status and health-check show it)");
        }
        return withDatabase(true, db -> report(new Pauses(db.dsl()).pause(Operator.current(), reason.strip())));
    }

    private static OpsReport report(PauseResult result) {
        Pause p = result.pause();
        List<String> lines = result.isNew()
                ? List.of("⏸ de-enrollment paused at " + Timestamps.text(p.pausedAt()) + " by " + p.pausedBy() + ": " + p.reason(),
                        "runs in flight stop at their next batch and close their runs partial; new runs exit 0 with"
                                + " status \"paused\" until `deenroll resume`",
                        "`deenroll status` lists the invocations still running")
                : List.of("⏸ de-enrollment is already paused since " + Timestamps.text(p.pausedAt()) + " by " + p.pausedBy()
                                + " (reason: " + p.reason() + "); left as it is",
                        "`deenroll resume` ends it");
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("paused", p.json());
        json.put("new", result.isNew());
        return new OpsReport(lines, json, false);
    }
}
