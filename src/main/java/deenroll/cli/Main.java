package deenroll.cli;

import org.slf4j.LoggerFactory;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Map;

/**
 * Entry point. {@link #run} is what tests call: output streams and environment
 * are passed in, and every error becomes an exit code here, in one place.
 */
public final class Main {

    static {
        // jOOQ prints a banner and tips on first use; stdout is for results only
        System.setProperty("org.jooq.no-logo", "true");
        System.setProperty("org.jooq.no-tips", "true");
    }

    private Main() {
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        System.exit(run(out, err, System.getenv(), true, args));
    }

    public static int run(PrintWriter out, PrintWriter err, Map<String, String> env, String... args) {
        return run(out, err, env, false, args);
    }

    static int run(PrintWriter out, PrintWriter err, Map<String, String> env, boolean standalone, String... args) {
        CliContext ctx = new CliContext(out, err, env, Clock.systemUTC(), standalone);
        CommandLine cli = new CommandLine(new DeenrollCommand(ctx))
                .addSubcommand("run", new RunCommand(ctx))
                .addSubcommand("health-check", new HealthCheckCommand(ctx))
                .addSubcommand("migrate", new MigrateCommand(ctx))
                .addSubcommand("backup", new BackupCommand(ctx))
                .addSubcommand("restore", new RestoreCommand(ctx))
                .addSubcommand("rollback", new RollbackCommand(ctx))
                .addSubcommand("migrate-stuck-leads", new MigrateStuckLeadsCommand(ctx))
                .addSubcommand("verify", new VerifyCommand(ctx))
                .addSubcommand("reconcile-stats", new ReconcileStatsCommand(ctx))
                .addSubcommand("report", new CommandLine(new ReportCommand())
                        .addSubcommand("daily", new ReportCommand.Daily(ctx))
                        .addSubcommand("weekly", new ReportCommand.Weekly(ctx))
                        .addSubcommand("lead", new ReportCommand.Lead(ctx))
                        .addSubcommand("indexes", new ReportCommand.Indexes(ctx)))
                .addSubcommand("cleanup", new CleanupCommand(ctx))
                .addSubcommand("demo", new DemoCommand(ctx));
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler((e, arguments) -> {
            err.println("deenroll: " + e.getMessage().lines().findFirst().orElse("") + " (see --help)");
            err.flush();
            return isHealthCheck(e.getCommandLine()) ? 3 : ExitCode.USAGE;
        });
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            boolean health = isHealthCheck(commandLine) || parseResult.hasMatchedOption("--health-check");
            if (ExitCode.of(e) == ExitCode.FAILED) {
                LoggerFactory.getLogger(Main.class).debug("unexpected error", e);
            }
            err.println("deenroll: " + ExitCode.message(e));
            err.flush();
            return health ? 3 : ExitCode.of(e);
        });
        return cli.execute(args);
    }

    private static boolean isHealthCheck(CommandLine commandLine) {
        return "health-check".equals(commandLine.getCommandName());
    }
}
