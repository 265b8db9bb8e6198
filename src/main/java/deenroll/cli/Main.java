package deenroll.cli;

import org.slf4j.LoggerFactory;
import deenroll.health.Level;
import picocli.AutoComplete;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Entry point. {@link #run} is what tests call: output streams and environment
 * are passed in, and every error becomes an exit code here, in one place.
 */
public final class Main {

    static {
        // jOOQ prints a banner and tips on first use; stdout is for results only
        System.setProperty("org.jooq.no-logo", "true");
        System.setProperty("org.jooq.no-tips", "true");
        JulBridge.install();
    }

    private static final String COMPLETION = "generate-completion";
    /** Commands that need the model of every command, not only their own. */
    private static final Set<String> WHOLE_MODEL = Set.of(COMPLETION);

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
        Map<String, Supplier<Object>> commands = commands(ctx);
        // Building picocli's model of every command costs about 0.1 s of each start: a
        // named command gets only its own; anything else (help, legacy flags, a typo) and
        // the commands that describe the whole tool (completion) all
        CommandLine cli;
        if (args.length > 0 && commands.containsKey(args[0]) && !WHOLE_MODEL.contains(args[0])) {
            cli = new CommandLine(new DeenrollCommand(ctx)).addSubcommand(args[0], commands.get(args[0]).get());
        } else {
            cli = model(ctx);
        }
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler((e, arguments) -> {
            err.println("deenroll: " + ParseErrors.line(e) + " (see --help)");
            err.flush();
            return isHealthCheck(e.getCommandLine()) ? Level.UNKNOWN.exitCode() : ExitCode.USAGE;
        });
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            boolean health = isHealthCheck(commandLine) || parseResult.hasMatchedOption("--health-check");
            if (ExitCode.of(e) == ExitCode.FAILED) {
                LoggerFactory.getLogger(Main.class).debug("unexpected error", e);
            }
            err.println("deenroll: " + ExitCode.message(e));
            err.flush();
            return health ? Level.UNKNOWN.exitCode() : ExitCode.of(e);
        });
        return cli.execute(args);
    }

    /** Every command, as picocli sees it: what completion and the man pages are generated from. */
    static CommandLine model(CliContext ctx) {
        CommandLine cli = new CommandLine(new DeenrollCommand(ctx));
        commands(ctx).forEach((name, command) -> cli.addSubcommand(name, command.get()));
        return cli;
    }

    private static Map<String, Supplier<Object>> commands(CliContext ctx) {
        Map<String, Supplier<Object>> commands = new LinkedHashMap<>();
        commands.put("run", () -> new RunCommand(ctx));
        commands.put("health-check", () -> HealthCheckCommand.command(ctx));
        commands.put("status", () -> new StatusCommand(ctx));
        commands.put("pause", () -> new PauseCommand(ctx));
        commands.put("resume", () -> new ResumeCommand(ctx));
        commands.put("explain", () -> new ExplainCommand(ctx));
        commands.put("migrate", () -> new MigrateCommand(ctx));
        commands.put("backup", () -> new BackupCommand(ctx));
        commands.put("restore", () -> new RestoreCommand(ctx));
        commands.put("rollback", () -> new RollbackCommand(ctx));
        commands.put("migrate-stuck-leads", () -> new MigrateStuckLeadsCommand(ctx));
        commands.put("verify", () -> new VerifyCommand(ctx));
        commands.put("reconcile-stats", () -> new ReconcileStatsCommand(ctx));
        commands.put("report", () -> new CommandLine(new ReportCommand())
                .addSubcommand("daily", new ReportCommand.Daily(ctx))
                .addSubcommand("weekly", new ReportCommand.Weekly(ctx))
                .addSubcommand("lead", new ReportCommand.Lead(ctx))
                .addSubcommand("indexes", new ReportCommand.Indexes(ctx)));
        commands.put("cleanup", () -> new CleanupCommand(ctx));
        commands.put("demo", () -> new DemoCommand(ctx));
        // a lambda, not GenerateCompletion::new: a method reference loads picocli's Java 5 class
        // at every start, and a JDK 25 ahead-of-time cache holding that lambda cannot be made
        // (the JVM aborts writing it; ./deenroll)
        commands.put(COMPLETION, () -> new AutoComplete.GenerateCompletion());
        return commands;
    }

    private static boolean isHealthCheck(CommandLine commandLine) {
        return "health-check".equals(commandLine.getCommandName());
    }
}
