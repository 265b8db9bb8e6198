package deenroll.cli;

import deenroll.config.Settings;
import deenroll.db.Database;
import deenroll.db.SchemaCheck;
import deenroll.ops.OpsReport;
import picocli.CommandLine.Mixin;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Function;

/** The shape of the operations commands: validate, connect, check the schema, act, print. */
abstract class OpsCommand implements Callable<Integer> {

    final CliContext ctx;

    @Mixin
    CommonOptions common = new CommonOptions();

    OpsCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    /** Connects, refuses an unmigrated database (exit 4), runs {@code action}, prints its report. */
    int withDatabase(boolean requireMigrated, Function<Database, OpsReport> action) {
        CliContext.Settings settings = ctx.settings(common);
        return withDatabase(requireMigrated, settings.statementTimeout(), action);
    }

    /** As {@link #withDatabase(boolean, Function)}, its statements bounded by {@code timeout} (a long operation's own). */
    int withDatabase(boolean requireMigrated, OperationTimeoutOption timeout, Function<Database, OpsReport> action) {
        return withDatabase(requireMigrated, ctx.config.get(Settings.OPERATION_TIMEOUT, timeout.value), action);
    }

    private int withDatabase(boolean requireMigrated, Duration timeout, Function<Database, OpsReport> action) {
        CliContext.Settings settings = ctx.settings(common);
        try (Database db = ctx.open(settings, timeout)) {
            if (requireMigrated) {
                SchemaCheck.requireMigrated(db.dsl());
            }
            return ctx.print(action.apply(db), common.output);
        }
    }
}
