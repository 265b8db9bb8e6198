package deenroll.config;

import deenroll.alert.AlertFormat;
import deenroll.health.Level;
import deenroll.health.Measure;
import deenroll.health.Range;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.LongFunction;

/**
 * Every setting of every command, each defined once: option, environment
 * variable, default, what it accepts. docs/configuration.md is generated from
 * this list (SettingsTableTest fails when it differs), and --help names the
 * same variables and defaults.
 */
public final class Settings {

    private static final long DAY_MS = 24L * 60 * 60 * 1000;
    private static final long MAX_DAYS = 36_500;

    // ------------------------------------------------------------------ every database command

    public static final Setting<Optional<String>> DATABASE_URL = new Setting<>("--database-url", Optional.of("DATABASE_URL"),
            "PG* variables", "postgres://user:pass@host:port/db?… or jdbc:postgresql://host:port/db?…", true,
            Optional.empty(), Optional::of);

    public static final Setting<String> LOG_LEVEL = new Setting<>("--log-level", Optional.of("LOG_LEVEL"), "info",
            "one of error, warn, info, debug, trace", false, "info", Settings::logLevel);

    public static final Setting<Optional<URI>> ALERT_WEBHOOK = httpUrl("--alert-webhook", "DE_ENROLLMENT_ALERT_WEBHOOK");

    public static final Setting<Optional<AlertFormat>> ALERT_FORMAT = new Setting<>("--alert-format",
            Optional.of("DE_ENROLLMENT_ALERT_FORMAT"), "slack for hooks.slack.com, else json", "json or slack", false,
            Optional.empty(), Settings::alertFormat);

    public static final Setting<Duration> ALERT_REPEAT = integer("--alert-repeat", "DE_ENROLLMENT_ALERT_REPEAT",
            60, 1, 7 * 24 * 60, "minutes", Duration::ofMinutes);

    public static final Setting<Duration> STATEMENT_TIMEOUT = integer("--statement-timeout",
            "DE_ENROLLMENT_STATEMENT_TIMEOUT", 300_000, 1_000, 540_000, "ms", Duration::ofMillis);

    public static final Setting<Duration> CONNECT_TIMEOUT = integer("--connect-timeout", "DE_ENROLLMENT_CONNECT_TIMEOUT",
            5_000, 250, 120_000, "ms", Duration::ofMillis);

    // ------------------------------------------------------------------ run

    public static final Setting<Integer> BATCH_SIZE = integer("--batch-size", "DE_ENROLLMENT_BATCH_SIZE",
            100, 1, 10_000, "", n -> (int) n);

    public static final Setting<Duration> MAX_RUNTIME = integer("--max-runtime", "DE_ENROLLMENT_MAX_RUNTIME",
            240_000, 1, DAY_MS, "ms", Duration::ofMillis);

    /** migrate-stuck-leads' budget: the same option and variable as run's, with an hour as its default. */
    public static final Setting<Duration> MIGRATION_MAX_RUNTIME = integer("--max-runtime", "DE_ENROLLMENT_MAX_RUNTIME",
            3_600_000, 1, DAY_MS, "ms", Duration::ofMillis);

    /**
     * How long an invocation's heartbeat may go unrenewed before other
     * processes take it for dead and close its runs as abandoned: a kill -9 is
     * detected this long after it happened. It beats six times per lease, so it
     * must comfortably exceed the longest database outage a live run should ride out.
     */
    public static final Setting<Duration> LEASE = integer("--lease", "DE_ENROLLMENT_LEASE",
            90_000, 2_000, 3_600_000, "ms", Duration::ofMillis);

    public static final Setting<Optional<URI>> PING_URL = httpUrl("--ping-url", "DE_ENROLLMENT_PING_URL");

    public static final Setting<Optional<Path>> METRICS_FILE = new Setting<>("--metrics-file",
            Optional.of("DE_ENROLLMENT_METRICS_FILE"), "—", "a file in an existing directory", false,
            Optional.empty(), Settings::metricsFile);

    public static final Setting<Optional<URI>> PUSHGATEWAY = httpUrl("--pushgateway", "DE_ENROLLMENT_PUSHGATEWAY_URL");

    // ------------------------------------------------------------------ the long operations

    /**
     * The timeout of each statement of the long operations (backup, restore,
     * cleanup, migrate-stuck-leads), which copy, update or vacuum whole tables:
     * separate from the engine's statement timeout, uncapped, 0 = none. The
     * default, four hours, is ample for a platform of several million leads.
     */
    public static final Setting<Duration> OPERATION_TIMEOUT = integer("--operation-timeout",
            "DE_ENROLLMENT_OPERATION_TIMEOUT", 14_400_000, 0, Integer.MAX_VALUE * 1000L, "ms (0: none)", Duration::ofMillis);

    /** How long each migration waits for a lock on a host table before it gives up (0: as long as it takes). */
    public static final Setting<Duration> LOCK_TIMEOUT = integer("--lock-timeout", "DE_ENROLLMENT_LOCK_TIMEOUT",
            10_000, 0, 3_600_000, "ms (0: no limit)", Duration::ofMillis);

    public static final Setting<Integer> CLEANUP_RUNS_DAYS = integer("--runs-days", "DE_ENROLLMENT_CLEANUP_RUNS_DAYS",
            90, 1, MAX_DAYS, "days", n -> (int) n);

    public static final Setting<Integer> CLEANUP_LEAD_LOG_DAYS = integer("--lead-log-days",
            "DE_ENROLLMENT_CLEANUP_LEAD_LOG_DAYS", 30, 1, MAX_DAYS, "days", n -> (int) n);

    /** The procedure keeps backups at least 30 days. */
    public static final Setting<Integer> CLEANUP_BACKUP_DAYS = integer("--backup-days",
            "DE_ENROLLMENT_CLEANUP_BACKUP_DAYS", 30, 30, MAX_DAYS, "days", n -> (int) n);

    // ------------------------------------------------------------------ health

    /** DESIGN §3 "stuck": the one grace period of health-check, report daily, verify and run's metrics. */
    public static final Setting<Duration> STUCK_GRACE = integer("--stuck-grace-minutes",
            "DE_ENROLLMENT_STUCK_GRACE_MINUTES", 30, 1, 7 * 24 * 60, "minutes", Duration::ofMinutes);

    /** Nagios' -t: no variable, a plugin's timeout is its scheduler's to give. */
    public static final Setting<Optional<Duration>> HEALTH_TIMEOUT = new Setting<>("-t/--timeout", Optional.empty(),
            "—", "a whole number of seconds from 1 to 86400", false, Optional.empty(),
            text -> Optional.of(Duration.ofSeconds(bounded(text, 1, 86_400))));

    /** The warning and critical range of every measure; an option of health-check and report daily, a variable each. */
    public static final List<ThresholdSetting> THRESHOLDS = Arrays.stream(Measure.values())
            .flatMap(m -> (m.hasWarningRange() ? List.of(Level.WARNING, Level.CRITICAL) : List.of(Level.CRITICAL))
                    .stream().map(level -> ThresholdSetting.of(m, level)))
            .toList();

    // ------------------------------------------------------------------ demo

    public static final Setting<Integer> DEMO_LEADS_PER_CAMPAIGN = integer("--leads-per-campaign", null,
            400, 1, 100_000, "", n -> (int) n);

    private Settings() {
    }

    /** Every setting, in the order the docs list them. */
    public static List<Setting<?>> all() {
        List<Setting<?>> all = new ArrayList<>(List.of(DATABASE_URL, LOG_LEVEL, ALERT_WEBHOOK, ALERT_FORMAT, ALERT_REPEAT,
                STATEMENT_TIMEOUT, CONNECT_TIMEOUT, BATCH_SIZE, MAX_RUNTIME, MIGRATION_MAX_RUNTIME, LEASE, PING_URL,
                METRICS_FILE, PUSHGATEWAY, OPERATION_TIMEOUT, LOCK_TIMEOUT, CLEANUP_RUNS_DAYS, CLEANUP_LEAD_LOG_DAYS,
                CLEANUP_BACKUP_DAYS, STUCK_GRACE, HEALTH_TIMEOUT));
        THRESHOLDS.forEach(t -> all.add(t.setting()));
        all.add(DEMO_LEADS_PER_CAMPAIGN);
        return List.copyOf(all);
    }

    /**
     * The warning or critical range of one measure: {@code -w/-c LABEL=RANGE},
     * else its variable, else the default; {@code aliases} are the older
     * options that set the same range from a number (deploy/ and n8n/ use them).
     */
    public record ThresholdSetting(Measure measure, Level level, Setting<Optional<Range>> setting,
                                   List<Setting<Optional<Range>>> aliases) {

        static ThresholdSetting of(Measure m, Level level) {
            boolean warning = level == Level.WARNING;
            Optional<Range> defaults = warning ? m.defaults().warning() : m.defaults().critical();
            String unit = (m.unit().isEmpty() ? "" : " in " + m.unit())
                    + (m.max().isPresent() ? ", ends 0 to " + (long) m.max().getAsDouble() : ", ends 0 or more")
                    + (m.zeroLimitAlwaysAlerts() ? ", not \"above 0\"" : "");
            Setting<Optional<Range>> setting = new Setting<>((warning ? "-w " : "-c ") + m.label(),
                    Optional.of("DE_ENROLLMENT_" + (warning ? "WARNING_" : "CRITICAL_") + m.label().toUpperCase(Locale.ROOT)),
                    defaults.map(Range::toString).orElse("—"), "a range [@][start:][end]" + unit,
                    false, defaults, text -> Optional.of(checked(m, parsed(text))));
            return new ThresholdSetting(m, level, setting, aliases(m, level));
        }

        /** The older options, each "alert above N" (below, for the success rate) in its own unit. */
        private static List<Setting<Optional<Range>>> aliases(Measure m, Level level) {
            String count = "an integer from 0";
            return switch (m) {
                case STUCK_LEADS -> List.of(level == Level.WARNING
                        ? alias("--stuck-warning", m, count, t -> Range.above(bounded(t, 0, Integer.MAX_VALUE)))
                        : alias("--stuck-critical", m, count, t -> Range.above(bounded(t, 0, Integer.MAX_VALUE))));
                case SUCCESS_RATE -> level == Level.WARNING ? List.of(alias("--min-success-rate", m,
                        "a percentage from 0 to 100", t -> Range.below(decimal(t, 0, 100)))) : List.of();
                case FAILED_RUNS -> level == Level.WARNING ? List.of(alias("--max-failed-runs", m, count,
                        t -> Range.above(bounded(t, 0, Integer.MAX_VALUE)))) : List.of();
                case HOURS_SINCE_SUCCESS -> level == Level.CRITICAL ? List.of(alias("--max-hours-since-success", m,
                        "a number of hours", t -> Range.above(decimal(t, 0, Double.MAX_VALUE)))) : List.of();
                case HOURS_SINCE_LAST_RUN -> level == Level.CRITICAL ? List.of(alias("--no-run-hours", m,
                        "an integer number of hours", t -> Range.above(bounded(t, 0, Integer.MAX_VALUE)))) : List.of();
                case AVERAGE_DURATION -> level == Level.WARNING ? List.of(alias("--max-average-minutes", m,
                        "an integer number of minutes", t -> Range.above(bounded(t, 0, Integer.MAX_VALUE) * 60)))
                        : List.of();
                case PEAK_MEMORY -> level == Level.WARNING ? List.of(alias("--max-memory-mb", m,
                        "an integer number of MB", t -> Range.above(bounded(t, 0, Integer.MAX_VALUE)))) : List.of();
                case PAUSED_HOURS -> List.of(alias("--max-pause-hours", m, count,
                        t -> Range.above(bounded(t, 0, Integer.MAX_VALUE))));
            };
        }

        private static Setting<Optional<Range>> alias(String option, Measure m, String accepted,
                                                      Function<String, Range> range) {
            return new Setting<>(option, Optional.empty(), "—", accepted, false, Optional.empty(),
                    text -> Optional.of(checked(m, range.apply(text))));
        }

        private static Range parsed(String text) {
            try {
                return Range.parse(text);
            } catch (IllegalArgumentException e) {
                throw new Setting.Refused("a range [@][start:][end] (10, 10:, ~:10, 10:20, @10:20)");
            }
        }

        /** A range the measure's own rules accept ({@link Measure#refusal}), however it was given. */
        private static Range checked(Measure m, Range range) {
            m.refusal(range).ifPresent(why -> {
                throw new Setting.Refused(why);
            });
            return range;
        }
    }

    /** A plain decimal number (no exponent, no NaN, no Infinity) within {@code min..max}. */
    private static double decimal(String text, double min, double max) {
        if (!text.matches("\\d{1,15}(\\.\\d{1,15})?")) {
            throw new IllegalArgumentException("not a plain decimal");
        }
        double parsed = Double.parseDouble(text);
        if (parsed < min || parsed > max) {
            throw new IllegalArgumentException("out of range");
        }
        return parsed;
    }

    private static <T> Setting<T> integer(String option, String variable, long defaultValue, long min, long max,
                                          String unit, LongFunction<T> type) {
        String accepted = "an integer from " + min + " to " + max + (unit.isEmpty() ? "" : " " + unit);
        return new Setting<>(option, Optional.ofNullable(variable), String.valueOf(defaultValue), accepted, false,
                type.apply(defaultValue), text -> type.apply(bounded(text, min, max)));
    }

    /** A plain decimal integer (no sign other than -, no exponent) within {@code min..max}. */
    private static long bounded(String text, long min, long max) {
        long parsed = Long.parseLong(text);
        if (parsed < min || parsed > max) {
            throw new IllegalArgumentException("out of range");
        }
        return parsed;
    }

    private static Setting<Optional<URI>> httpUrl(String option, String variable) {
        // these URLs hold tokens: a refusal never echoes them (secret)
        return new Setting<>(option, Optional.of(variable), "—", "an http:// or https:// URL", true, Optional.empty(),
                text -> {
                    try {
                        URI uri = new URI(text);
                        if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null) {
                            return Optional.of(uri);
                        }
                    } catch (URISyntaxException ignored) {
                        // refused below
                    }
                    throw new IllegalArgumentException("not an http URL");
                });
    }

    private static String logLevel(String text) {
        String level = text.toLowerCase(Locale.ROOT);
        return switch (level) {
            case "error", "warn", "info", "debug", "trace" -> level;
            default -> throw new IllegalArgumentException(level);
        };
    }

    private static Optional<AlertFormat> alertFormat(String text) {
        return Optional.of(switch (text.toLowerCase(Locale.ROOT)) {
            case "json" -> AlertFormat.JSON;
            case "slack" -> AlertFormat.SLACK;
            default -> throw new IllegalArgumentException(text);
        });
    }

    /** A file in an existing directory (node_exporter's textfile directory); it is replaced whole on each write. */
    private static Optional<Path> metricsFile(String text) {
        Path file;
        try {
            file = Path.of(text).toAbsolutePath();
        } catch (InvalidPathException e) {
            throw new Setting.Refused("a file path");
        }
        if (Files.isDirectory(file) || file.getParent() == null || !Files.isDirectory(file.getParent())) {
            throw new Setting.Refused("a file in an existing directory");
        }
        return Optional.of(file);
    }
}
