package deenroll.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/**
 * The bare command: `deenroll` is `deenroll run`, and the old script's flags
 * (--all-clients, --client-id=UUID, --health-check) keep working on it.
 */
@Command(name = "deenroll", mixinStandardHelpOptions = true, versionProvider = Version.class, usageHelpWidth = 120,
        description = {"De-enrolls leads that finished their campaign sequence, for every client, safely.",
                "Without a command it runs `run`."},
        commandListHeading = "%nCommands:%n",
        footerHeading = "%nEnvironment:%n",
        footer = {
                "  DATABASE_URL                   postgres://user:pass@host:port/db?sslmode=... or jdbc:postgresql:...",
                "  PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSSLMODE   used when DATABASE_URL is absent (as psql)",
                "  DE_ENROLLMENT_BATCH_SIZE       leads per batch transaction, 1-10000 (default 100)",
                "  DE_ENROLLMENT_MAX_RUNTIME      time budget of one invocation in ms (default 240000)",
                "  DE_ENROLLMENT_ALERT_WEBHOOK    where alerts are POSTed (JSON; Slack's {text} for hooks.slack.com)",
                "  DE_ENROLLMENT_ALERT_FORMAT     json or slack (default: by the webhook's host)",
                "  DE_ENROLLMENT_ALERT_REPEAT     minutes before a condition that still holds is alerted again (default 60)",
                "  DE_ENROLLMENT_METRICS_FILE     Prometheus textfile (node_exporter), replaced atomically",
                "  DE_ENROLLMENT_PUSHGATEWAY_URL  Prometheus Pushgateway, metrics grouped by job",
                "  DE_ENROLLMENT_PING_URL         dead-man switch: URL/start, then URL/<exit code>, ?rid=<invocation id> (healthchecks.io)",
                "  DE_ENROLLMENT_STATEMENT_TIMEOUT  per-statement timeout in ms (default 300000)",
                "  DE_ENROLLMENT_LEASE            heartbeat lease in ms: silent this long, an invocation is taken for dead (default 90000)",
                "  DE_ENROLLMENT_CONNECT_TIMEOUT  connection timeout in ms (default 5000)",
                "  DE_ENROLLMENT_WARNING_<LABEL>, DE_ENROLLMENT_CRITICAL_<LABEL>  health-check's and report daily's ranges (-w/-c)",
                "  LOG_LEVEL                      error, warn, info (default), debug, trace; logs go to stderr",
                "Options win over environment variables, which win over defaults; docs/configuration.md lists every setting.",
                "",
                "Exit codes of run: 0 done, 1 a client failed, 2 usage/configuration error, 3 partial (budget ran out),",
                "4 database unreachable or not migrated. health-check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
                "",
                "Examples:",
                "  deenroll                                  # all active clients (as the old --all-clients)",
                "  deenroll --client-id=123e4567-e89b-12d3-a456-426614174000",
                "  deenroll --health-check",
                "  deenroll run --dry-run --output json"})
final class DeenrollCommand implements Callable<Integer> {

    private final CliContext ctx;

    @Mixin
    CommonOptions common = new CommonOptions();

    @Mixin
    RunOptions run = new RunOptions();

    @Mixin
    MonitoringOptions monitoring = new MonitoringOptions();

    @Option(names = "--health-check", description = "run the health check instead (the old script's flag)")
    boolean healthCheck;

    DeenrollCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        if (healthCheck) {
            HealthCheckCommand health = new HealthCheckCommand(ctx);
            health.common = common;
            health.monitoring = monitoring;
            return health.call();
        }
        return RunCommand.execute(ctx, common, run, monitoring);
    }
}
