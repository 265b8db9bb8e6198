package deenroll.cli;

import picocli.CommandLine.Option;

/** Where run and health-check publish their metrics. Values are validated by {@link deenroll.config.Config}. */
public final class MonitoringOptions {

    @Option(names = "--metrics-file", paramLabel = "PATH",
            description = "write Prometheus metrics here for node_exporter's textfile collector, replaced atomically (env DE_ENROLLMENT_METRICS_FILE)")
    String metricsFile;

    @Option(names = "--pushgateway", paramLabel = "URL",
            description = "push Prometheus metrics to this Pushgateway, grouped by job (env DE_ENROLLMENT_PUSHGATEWAY_URL)")
    String pushgateway;
}
