package deenroll.config;

import deenroll.alert.AlertFormat;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Resolves every setting the same way: command-line option, else environment
 * variable, else default; and validates it, so a bad value is one line naming
 * its source and what is accepted (a {@link UsageException}) before anything
 * touches the database.
 */
public final class Config {

    public static final int MIN_BATCH = 1;
    public static final int MAX_BATCH = 10_000;
    private static final long MAX_RUNTIME_MS = 24L * 60 * 60 * 1000;
    private static final Pattern UUID_TEXT =
            Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private final Map<String, String> env;

    public Config(Map<String, String> env) {
        this.env = env;
    }

    /** The URL (option, else DATABASE_URL, else the PG* variables), with libpq's TLS variables and rules. */
    public DatabaseTarget database(String option) {
        String url = option != null ? option : env("DATABASE_URL");
        DatabaseTarget target = url == null ? DatabaseTarget.fromPgEnvironment(env)
                : DatabaseTarget.fromUrl(url, option != null ? "--database-url" : "DATABASE_URL");
        return target.withLibpqTls(env, LibpqTls.defaultRootCert());
    }

    public int batchSize(String option) {
        return (int) integer(option, "--batch-size", "DE_ENROLLMENT_BATCH_SIZE", 100, MIN_BATCH, MAX_BATCH, "");
    }

    public Duration maxRuntime(String option) {
        return Duration.ofMillis(integer(option, "--max-runtime", "DE_ENROLLMENT_MAX_RUNTIME", 240_000,
                1, MAX_RUNTIME_MS, " milliseconds"));
    }

    /**
     * How long an invocation's heartbeat may go unrenewed before other
     * processes take it for dead and close its runs as abandoned: a kill -9 is
     * detected this long after it happened. It beats six times per lease, so it
     * must comfortably exceed the longest database outage a live run should ride out.
     */
    public Duration lease(String option) {
        return Duration.ofMillis(integer(option, "--lease", "DE_ENROLLMENT_LEASE", 90_000,
                2_000, 3_600_000, " milliseconds"));
    }

    public Duration statementTimeout(String option) {
        return Duration.ofMillis(integer(option, "--statement-timeout", "DE_ENROLLMENT_STATEMENT_TIMEOUT", 300_000,
                1_000, 540_000, " milliseconds"));
    }

    /**
     * The timeout of each statement of the long operations (backup, restore,
     * cleanup, migrate-stuck-leads), which copy, update or vacuum whole tables:
     * separate from the engine's statement timeout, uncapped, 0 = none. The
     * default, four hours, is ample for a platform of several million leads.
     */
    public Duration operationTimeout(String option) {
        return Duration.ofMillis(integer(option, "--operation-timeout", "DE_ENROLLMENT_OPERATION_TIMEOUT", 14_400_000,
                0, Integer.MAX_VALUE * 1000L, " milliseconds (0: none)"));
    }

    /** How long each migration waits for a lock on a host table before it gives up (0: as long as it takes). */
    public Duration lockTimeout(String option) {
        return Duration.ofMillis(integer(option, "--lock-timeout", "DE_ENROLLMENT_LOCK_TIMEOUT", 10_000,
                0, 3_600_000, " milliseconds (0: no limit)"));
    }

    public Duration connectTimeout(String option) {
        return Duration.ofMillis(integer(option, "--connect-timeout", "DE_ENROLLMENT_CONNECT_TIMEOUT", 5_000,
                250, 120_000, " milliseconds"));
    }

    public Optional<URI> alertWebhook(String option) {
        return httpUrl(option, "--alert-webhook", "DE_ENROLLMENT_ALERT_WEBHOOK");
    }

    /** The alert body: slack or json; unset, Slack's own webhook host gets slack and any other URL json. */
    public AlertFormat alertFormat(String option, Optional<URI> webhook) {
        String source = option != null ? "--alert-format" : "DE_ENROLLMENT_ALERT_FORMAT";
        String value = option != null ? option : env("DE_ENROLLMENT_ALERT_FORMAT");
        if (value == null) {
            return webhook.map(AlertFormat::forUrl).orElse(AlertFormat.JSON);
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "json" -> AlertFormat.JSON;
            case "slack" -> AlertFormat.SLACK;
            default -> throw new UsageException(source + ": expected json or slack");
        };
    }

    /** How long a condition that still holds stays quiet before it is alerted again. */
    public Duration alertRepeat(String option) {
        return Duration.ofMinutes(integer(option, "--alert-repeat", "DE_ENROLLMENT_ALERT_REPEAT", 60,
                1, 7 * 24 * 60, " minutes"));
    }

    public Optional<URI> pushgateway(String option) {
        return httpUrl(option, "--pushgateway", "DE_ENROLLMENT_PUSHGATEWAY_URL");
    }

    public Optional<URI> pingUrl(String option) {
        return httpUrl(option, "--ping-url", "DE_ENROLLMENT_PING_URL");
    }

    /** A file in an existing directory (node_exporter's textfile directory); it is replaced whole on each write. */
    public Optional<Path> metricsFile(String option) {
        String source = option != null ? "--metrics-file" : "DE_ENROLLMENT_METRICS_FILE";
        String value = option != null ? option : env("DE_ENROLLMENT_METRICS_FILE");
        if (value == null) {
            return Optional.empty();
        }
        Path file;
        try {
            file = Path.of(value.trim()).toAbsolutePath();
        } catch (InvalidPathException e) {
            throw new UsageException(source + ": expected a file path, got '" + printable(value) + "'");
        }
        if (Files.isDirectory(file) || file.getParent() == null || !Files.isDirectory(file.getParent())) {
            throw new UsageException(source + ": expected a file in an existing directory, got '" + printable(value) + "'");
        }
        return Optional.of(file);
    }

    private Optional<URI> httpUrl(String option, String optionName, String variable) {
        String source = option != null ? optionName : variable;
        String value = option != null ? option : env(variable);
        if (value == null) {
            return Optional.empty();
        }
        try {
            URI uri = new URI(value.trim());
            if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null) {
                return Optional.of(uri);
            }
        } catch (URISyntaxException ignored) {
            // reported below, without the value: these URLs hold tokens
        }
        throw new UsageException(source + ": expected an http:// or https:// URL");
    }

    public String logLevel(String option) {
        String source = option != null ? "--log-level" : "LOG_LEVEL";
        String value = option != null ? option : env("LOG_LEVEL");
        if (value == null) {
            return "info";
        }
        String level = value.trim().toLowerCase(Locale.ROOT);
        return switch (level) {
            case "error", "warn", "info", "debug", "trace" -> level;
            default -> throw new UsageException(source + ": expected one of error, warn, info, debug, trace");
        };
    }

    public static UUID clientId(String value) {
        return uuid(value, "--client-id");
    }

    /** A UUID in its canonical text form; the value is not echoed (it may be anything an operator pasted). */
    public static UUID uuid(String value, String source) {
        if (value == null || !UUID_TEXT.matcher(value.trim()).matches()) {
            throw new UsageException(source + ": expected a UUID like 123e4567-e89b-12d3-a456-426614174000");
        }
        return UUID.fromString(value.trim());
    }

    private long integer(String option, String optionName, String variable, long defaultValue,
                         long min, long max, String unit) {
        String source = option != null ? optionName : variable;
        String value = option != null ? option : env(variable);
        if (value == null) {
            return defaultValue;
        }
        String accepted = source + ": expected an integer from " + min + " to " + max + unit;
        long parsed;
        try {
            parsed = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(accepted + ", got '" + printable(value) + "'");
        }
        if (parsed < min || parsed > max) {
            throw new UsageException(accepted + ", got " + parsed);
        }
        return parsed;
    }

    /** An empty variable counts as unset, as shells and n8n often pass them. */
    private String env(String name) {
        String value = env.get(name);
        return value == null || value.isBlank() ? null : value;
    }

    private static String printable(String value) {
        String shown = value.length() > 40 ? value.substring(0, 40) + "…" : value;
        return shown.replaceAll("\\p{Cntrl}", "?");
    }
}
