package deenroll.cli;

import picocli.CommandLine.Option;

/** Options every database command takes. Values are validated by {@link deenroll.config.Config}. */
public final class CommonOptions {

    @Option(names = "--database-url", paramLabel = "URL",
            description = "postgres://user:pass@host:port/db?sslmode=... or jdbc:postgresql:... (env DATABASE_URL, else PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE)")
    String databaseUrl;

    @Option(names = "--output", paramLabel = "FORMAT", description = "text or json (default: ${DEFAULT-VALUE})",
            defaultValue = "text")
    OutputFormat output = OutputFormat.text;

    @Option(names = "--log-level", paramLabel = "LEVEL", description = "error, warn, info, debug, trace (env LOG_LEVEL, default info); logs go to stderr")
    String logLevel;

    @Option(names = "--alert-webhook", paramLabel = "URL", description = "where alerts are POSTed (env DE_ENROLLMENT_ALERT_WEBHOOK)")
    String alertWebhook;

    @Option(names = "--alert-format", paramLabel = "FORMAT", description = "json {severity, message, details, timestamp, service} or slack {text} (env DE_ENROLLMENT_ALERT_FORMAT; default slack for hooks.slack.com URLs, else json)")
    String alertFormat;

    @Option(names = "--alert-repeat", paramLabel = "MIN", description = "a condition that still holds is alerted again after this many minutes (env DE_ENROLLMENT_ALERT_REPEAT, default 60)")
    String alertRepeat;

    @Option(names = "--statement-timeout", paramLabel = "MS", description = "statement timeout (env DE_ENROLLMENT_STATEMENT_TIMEOUT, default 300000)")
    String statementTimeout;

    @Option(names = "--connect-timeout", paramLabel = "MS", description = "connection timeout (env DE_ENROLLMENT_CONNECT_TIMEOUT, default 5000)")
    String connectTimeout;
}
