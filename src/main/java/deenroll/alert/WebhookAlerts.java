package deenroll.alert;

import deenroll.http.HttpDelivery;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.time.Clock;

/**
 * POSTs alerts to the alert webhook in the configured format, with retries
 * bounded in time ({@link HttpDelivery}). Failures are logged and swallowed.
 * Once a delivery has failed, the webhook counts as down for the rest of the
 * process: with many clients failing at once, each alert would otherwise wait
 * out its own retries. The URL is never logged whole: webhook URLs carry their
 * token in the path.
 */
public final class WebhookAlerts implements AlertSink {

    private static final Logger LOG = LoggerFactory.getLogger(WebhookAlerts.class);

    private final URI url;
    private final AlertFormat format;
    private final HttpDelivery delivery;
    private final Clock clock;
    private boolean down;

    public WebhookAlerts(URI url, AlertFormat format, HttpDelivery delivery, Clock clock) {
        this.url = url;
        this.format = format;
        this.delivery = delivery;
        this.clock = clock;
    }

    @Override
    public void send(Alert alert) {
        deliver(alert);
    }

    /** Sends, and says whether the webhook took it. */
    boolean deliver(Alert alert) {
        if (down) {
            LOG.warn("alert webhook at {} failed earlier in this run; alert not delivered: {}",
                    HttpDelivery.describe(url), alert.message());
            return false;
        }
        HttpDelivery.Outcome outcome;
        try {
            outcome = delivery.send("POST", url, "application/json", format.body(alert, clock.instant()));
        } catch (RuntimeException e) {
            LOG.warn("alert not delivered ({}): {}", e.getClass().getSimpleName(), alert.message());
            down = true;
            return false;
        }
        if (outcome.delivered()) {
            LOG.debug("alert sent to {}: {}", HttpDelivery.describe(url), alert.message());
        } else {
            LOG.warn("alert webhook at {} failed: {}; alert not delivered: {}",
                    HttpDelivery.describe(url), outcome.problem(), alert.message());
            down = true;
        }
        return outcome.delivered();
    }
}
