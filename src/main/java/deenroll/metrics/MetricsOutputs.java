package deenroll.metrics;

import deenroll.http.HttpDelivery;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Optional;
import java.util.function.Function;

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

    /** Publishes metrics that stand alone (the health check's): the file is replaced, the Pushgateway's group added to. */
    public void publish(String job, MetricSnapshots metrics) {
        publish(job, false, previous -> metrics, false);
    }

    /**
     * Publishes a run's metrics, made from what each output already holds
     * ({@link Published}): the file's previous contents, the Pushgateway's group.
     * {@code succeeded}: the run replaces the job's group (PUT); any other run
     * only adds (POST), so the Pushgateway keeps the last success time even
     * when it could not be read back.
     */
    public void publishRun(String job, boolean succeeded, Function<Published, MetricSnapshots> metrics) {
        publish(job, succeeded, metrics, true);
    }

    private void publish(String job, boolean replaceGroup, Function<Published, MetricSnapshots> metrics, boolean carry) {
        file.ifPresent(f -> {
            try {
                f.write(metrics.apply(carry ? f.published() : Published.NOTHING));
                LOG.debug("metrics written to {}", f.path());
            } catch (IOException | RuntimeException e) {
                LOG.warn("metrics file {} not written: {}", f.path(), e.getClass().getSimpleName()
                        + (e.getMessage() == null ? "" : " " + e.getMessage()));
            }
        });
        pushgateway.ifPresent(p -> {
            HttpDelivery.Outcome outcome;
            try {
                outcome = p.push(job, metrics.apply(carry ? p.published(job) : Published.NOTHING), replaceGroup);
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
}
