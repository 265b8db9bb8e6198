package deenroll.metrics;

import deenroll.http.EndpointUrl;
import deenroll.http.HttpDelivery;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;

/**
 * Pushes to a Prometheus Pushgateway, grouped by job only: a batch job has no
 * instance worth a label, and a per-host group would outlive the host. PUT
 * replaces the job's group; POST replaces only the metrics it sends, which is
 * how a failed run leaves the last success time of the previous one in place.
 * Paths go before the URL's query string, if it has one.
 */
public final class Pushgateway {

    private final EndpointUrl base;
    private final HttpDelivery delivery;

    public Pushgateway(URI base, HttpDelivery delivery) {
        this.base = new EndpointUrl(base);
        this.delivery = delivery;
    }

    public URI url() {
        return base.uri();
    }

    /** What the job's group holds now, from the Pushgateway's API (1.0 and later); {@link Published#NOTHING} when it does not answer. */
    public Published published(String job) {
        return delivery.get(base.path("api", "v1", "metrics").uri())
                .map(body -> Published.fromPushgateway(body, job)).orElse(Published.NOTHING);
    }

    public HttpDelivery.Outcome push(String job, MetricSnapshots metrics, boolean replaceGroup) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
        try {
            writer.write(body, metrics);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return delivery.send(replaceGroup ? "PUT" : "POST", base.path("metrics", "job", job).uri(),
                writer.getContentType(), body.toByteArray());
    }
}
