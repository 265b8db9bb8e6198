package deenroll.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import deenroll.alert.AlertFormat;
import deenroll.alert.AlertSink;
import deenroll.alert.DeduplicatedAlerts;
import deenroll.alert.WebhookAlerts;
import deenroll.config.Config;
import deenroll.config.DatabaseTarget;
import deenroll.db.Database;
import deenroll.http.HttpDelivery;
import deenroll.metrics.MetricsFile;
import deenroll.metrics.MetricsOutputs;
import deenroll.metrics.Pushgateway;
import org.slf4j.LoggerFactory;

import java.io.PrintWriter;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import static deenroll.config.Settings.ALERT_REPEAT;
import static deenroll.config.Settings.ALERT_WEBHOOK;
import static deenroll.config.Settings.CONNECT_TIMEOUT;
import static deenroll.config.Settings.LOG_LEVEL;
import static deenroll.config.Settings.METRICS_FILE;
import static deenroll.config.Settings.PUSHGATEWAY;
import static deenroll.config.Settings.STATEMENT_TIMEOUT;

/** What every command needs from its surroundings: output streams, environment, configuration. */
final class CliContext {

    /** The JSON writer for values {@link JsonText} does not write itself, made when first used. */
    static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper()
                .registerModule(new JavaTimeModule())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .enable(SerializationFeature.INDENT_OUTPUT);

        private Json() {
        }
    }

    final PrintWriter out;
    final PrintWriter err;
    final Config config;
    final Clock clock;
    /** True in the real process: SIGTERM handling is installed; tests run in-process without it. */
    final boolean standalone;
    /** True when a run may show its live progress line: the real process, its stderr a terminal. */
    final boolean stderrIsTerminal;

    CliContext(PrintWriter out, PrintWriter err, Map<String, String> env, Clock clock, boolean standalone) {
        this.out = out;
        this.err = err;
        this.config = new Config(env);
        this.clock = clock;
        this.standalone = standalone;
        this.stderrIsTerminal = standalone && StderrTerminal.isTerminal(env);
    }

    /** Validates the common options (exit 2 on a bad one) and applies the log level. */
    Settings settings(CommonOptions common) {
        Optional<URI> webhook = config.get(ALERT_WEBHOOK, common.alertWebhook);
        Settings settings = new Settings(config.database(common.databaseUrl),
                config.get(STATEMENT_TIMEOUT, common.statementTimeout),
                config.get(CONNECT_TIMEOUT, common.connectTimeout),
                webhook, config.alertFormat(common.alertFormat, webhook),
                config.get(ALERT_REPEAT, common.alertRepeat),
                config.get(LOG_LEVEL, common.logLevel));
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(Level.toLevel(settings.logLevel()));
        return settings;
    }

    Database open(Settings settings) {
        return open(settings, settings.statementTimeout());
    }

    /** A pool whose statements have {@code statementTimeout} instead of the engine's (the long operations'). */
    Database open(Settings settings, Duration statementTimeout) {
        return Database.open(settings.database(), settings.connectTimeout(), statementTimeout);
    }

    /**
     * The alert webhook, de-duplicated through the database when there is one
     * ({@code db} is null when it could not be opened).
     */
    AlertSink alerts(Settings settings, Database db) {
        return settings.alertWebhook().<AlertSink>map(url -> {
            WebhookAlerts webhook = new WebhookAlerts(url, settings.alertFormat(), HttpDelivery.standard(), clock);
            return db == null ? webhook : new DeduplicatedAlerts(db.dsl(), webhook, settings.alertRepeat(), clock);
        }).orElse(AlertSink.NONE);
    }

    /** The metrics file and Pushgateway of a command, validated (exit 2 on a bad value). */
    MetricsOutputs metrics(MonitoringOptions options) {
        return new MetricsOutputs(config.get(METRICS_FILE, options.metricsFile).map(MetricsFile::new),
                config.get(PUSHGATEWAY, options.pushgateway)
                        .map(url -> new Pushgateway(url, HttpDelivery.standard())));
    }

    void printJson(Object document) {
        out.println(JsonText.of(document));
        out.flush();
    }

    /** Prints an operations report as lines or one JSON document; exit 1 when it names a problem. */
    int print(deenroll.ops.OpsReport report, OutputFormat format) {
        if (format == OutputFormat.json) {
            printJson(report.json());
        } else {
            report.lines().forEach(out::println);
            out.flush();
        }
        return report.problem() ? ExitCode.FAILED : ExitCode.OK;
    }

    record Settings(DatabaseTarget database, Duration statementTimeout, Duration connectTimeout,
                    Optional<URI> alertWebhook, AlertFormat alertFormat, Duration alertRepeat, String logLevel) {

        /** The same, with no connect or statement allowed longer than {@code limit}: the server stops with it. */
        Settings within(Duration limit) {
            return new Settings(database, min(statementTimeout, limit), min(connectTimeout, limit), alertWebhook,
                    alertFormat, alertRepeat, logLevel);
        }

        private static Duration min(Duration a, Duration b) {
            return a.compareTo(b) <= 0 ? a : b;
        }
    }
}
