package deenroll.cli;

import deenroll.ops.Verify;
import deenroll.health.Thresholds;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Integrity checks after a deploy or during an incident: schema present, stuck leads, counter drift, leads processed twice, runs left running.",
        footerHeading = "%nExample:%n", footer = "  deenroll verify --output json",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:clean", "1:at least one problem (each is named)", "2:usage error", "4:database unreachable"})
final class VerifyCommand extends OpsCommand {

    @Option(names = "--stuck-grace-minutes", paramLabel = "MIN", description = "an eligible lead idle longer than this is stuck (default: ${DEFAULT-VALUE})")
    int stuckGraceMinutes = (int) Thresholds.DEFAULTS.stuckGrace().toMinutes();

    VerifyCommand(CliContext ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        return withDatabase(false, db -> new Verify(db.dsl(), Duration.ofMinutes(stuckGraceMinutes)).run());
    }
}
