package deenroll.alert;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * POSTs {@code {severity, message, details, timestamp, service}} to the alert
 * webhook with a short timeout. Failures are logged and swallowed. The URL is
 * never logged whole: webhook URLs carry their token in the path.
 */
public final class WebhookAlerts implements AlertSink {

    private static final Logger LOG = LoggerFactory.getLogger(WebhookAlerts.class);
    private static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    private final URI url;
    private final Duration timeout;
    private final Clock clock;
    private final HttpClient http;

    public WebhookAlerts(URI url, Duration timeout, Clock clock) {
        this.url = url;
        this.timeout = timeout;
        this.clock = clock;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    @Override
    public void send(Alert alert) {
        try {
            Map<String, Object> payload = new LinkedHashMap<>();
            payload.put("severity", alert.severity().json());
            payload.put("message", alert.message());
            payload.put("details", alert.details());
            payload.put("timestamp", clock.instant().toString());
            payload.put("service", "deenroll");
            HttpRequest request = HttpRequest.newBuilder(url)
                    .timeout(timeout)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(payload)))
                    .build();
            HttpResponse<Void> response = http.send(request, HttpResponse.BodyHandlers.discarding());
            if (response.statusCode() >= 300) {
                LOG.warn("alert webhook at {} answered HTTP {}; alert not delivered: {}",
                        url.getHost(), response.statusCode(), alert.message());
            } else {
                LOG.debug("alert sent to {}: {}", url.getHost(), alert.message());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.warn("alert to {} interrupted; not delivered: {}", url.getHost(), alert.message());
        } catch (Exception e) {
            LOG.warn("alert webhook at {} unreachable ({}); alert not delivered: {}",
                    url.getHost(), e.getClass().getSimpleName(), alert.message());
        }
    }
}
