package deenroll.metrics;

import deenroll.http.HttpDelivery;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Where a command's metrics go: a textfile, a Pushgateway, both or neither.
 * Trouble with either is logged (never the URL's path or credentials) and
 * never changes the exit code.
 */
public final class MetricsOutputs {

    private static final Logger LOG = LoggerFactory.getLogger(MetricsOutputs.class);

    private final Optional<MetricsFile> file;
    private final Optional<Pushgateway> pushgateway;

    public MetricsOutputs(Optional<MetricsFile> file, Optional<Pushgateway> pushgateway) {
        this.file = file;
        this.pushgateway = pushgateway;
    }

    public boolean any() {
        return file.isPresent() || pushgateway.isPresent();
    }

    /**
     * Publishes under {@code job}. Without {@link RunMetrics#LAST_SUCCESS} (a run
     * that did not succeed) the last success time already published stays: the
     * file keeps its old value, the Pushgateway push only adds (POST).
     */
    public void publish(String job, MetricSnapshots metrics) {
        boolean complete = metrics.stream().anyMatch(m -> m.getMetadata().getPrometheusName().equals(RunMetrics.LAST_SUCCESS));
        file.ifPresent(f -> {
            try {
                f.write(complete ? metrics : withPrevious(f, metrics));
                LOG.debug("metrics written to {}", f.path());
            } catch (IOException | RuntimeException e) {
                LOG.warn("metrics file {} not written: {}", f.path(), e.getClass().getSimpleName()
                        + (e.getMessage() == null ? "" : " " + e.getMessage()));
            }
        });
        pushgateway.ifPresent(p -> {
            HttpDelivery.Outcome outcome;
            try {
                outcome = p.push(job, metrics, complete);
            } catch (RuntimeException e) {
                outcome = new HttpDelivery.Outcome(false, 0, 0, e.getClass().getSimpleName());
            }
            if (outcome.delivered()) {
                LOG.debug("metrics pushed to {}", HttpDelivery.describe(p.url()));
            } else {
                LOG.warn("metrics push to {} failed: {}", HttpDelivery.describe(p.url()), outcome.problem());
            }
        });
    }

    private static MetricSnapshots withPrevious(MetricsFile f, MetricSnapshots metrics) {
        OptionalDouble previous = f.value(RunMetrics.LAST_SUCCESS);
        if (previous.isEmpty()) {
            return metrics;
        }
        List<MetricSnapshot> all = new ArrayList<>();
        all.add(RunMetrics.gauge(RunMetrics.LAST_SUCCESS, RunMetrics.LAST_SUCCESS_HELP, previous.getAsDouble()));
        metrics.forEach(all::add);
        return new MetricSnapshots(all);
    }
}
