package deenroll.cli;

import deenroll.ops.Verify;
import deenroll.config.Settings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Integrity checks after a deploy or during an incident: schema present, stuck leads, counter drift, leads processed twice, runs left running.",
        footerHeading = "%nExample:%n", footer = "  deenroll verify --output json",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:clean", "1:at least one problem (each is named)", "2:usage error", "4:database unreachable"})
final class VerifyCommand extends OpsCommand {

    @Option(names = "--stuck-grace-minutes", paramLabel = "MIN",
            description = "an eligible lead idle longer than this is stuck (env DE_ENROLLMENT_STUCK_GRACE_MINUTES, default 30)")
    String stuckGraceMinutes;

    VerifyCommand(CliContext ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        Duration grace = ctx.config.get(Settings.STUCK_GRACE, stuckGraceMinutes);
        return withDatabase(false, db -> new Verify(db.dsl(), grace).run());
    }
}
