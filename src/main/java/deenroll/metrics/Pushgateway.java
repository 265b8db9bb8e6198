package deenroll.metrics;

import deenroll.http.HttpDelivery;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * Pushes to a Prometheus Pushgateway, grouped by job only: a batch job has no
 * instance worth a label, and a per-host group would outlive the host. PUT
 * replaces the job's group; POST replaces only the metrics it sends, which is
 * how a failed run leaves the last success time of the previous one in place.
 */
public final class Pushgateway {

    private final URI base;
    private final HttpDelivery delivery;

    public Pushgateway(URI base, HttpDelivery delivery) {
        this.base = base;
        this.delivery = delivery;
    }

    public URI url() {
        return base;
    }

    public HttpDelivery.Outcome push(String job, MetricSnapshots metrics, boolean replaceGroup) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
        try {
            writer.write(body, metrics);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String path = base.toString().replaceAll("/+$", "") + "/metrics/job/" + URLEncoder.encode(job, StandardCharsets.UTF_8);
        return delivery.send(replaceGroup ? "PUT" : "POST", URI.create(path), writer.getContentType(), body.toByteArray());
    }
}
