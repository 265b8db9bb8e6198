package deenroll.cli;

import deenroll.control.Operator;
import deenroll.control.Pause;
import deenroll.control.Pauses;
import deenroll.control.Timestamps;
import deenroll.ops.OpsReport;
import picocli.CommandLine.Command;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

@Command(name = "resume", mixinStandardHelpOptions = true,
        description = {"End the pause of de-enrollment (`deenroll pause`): runs resume with the next scheduled invocation.",
                "Prints who paused it, since when and why. Not paused: says so, exit 0."},
        footerHeading = "%nExample:%n",
        footer = "  deenroll resume",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:resumed, or was not paused", "2:usage error", "4:database unreachable or not migrated"})
final class ResumeCommand extends OpsCommand {

    ResumeCommand(CliContext ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        return withDatabase(true, db -> report(new Pauses(db.dsl()).resume(Operator.current())));
    }

    private static OpsReport report(Optional<Pause> resumed) {
        List<String> lines = resumed.map(p -> List.of(
                        "▶ de-enrollment resumed: it was paused since " + Timestamps.text(p.pausedAt()) + " by "
                                + p.pausedBy() + " (reason: " + p.reason() + ")",
                        "runs resume with the next scheduled invocation"))
                .orElse(List.of("de-enrollment is not paused; nothing to resume"));
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("resumed", resumed.map(Pause::json).orElse(null));
        return new OpsReport(lines, json, false);
    }
}
