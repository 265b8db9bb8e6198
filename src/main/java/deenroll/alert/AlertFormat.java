package deenroll.alert;

import java.net.URI;
import java.time.Instant;

/** The body an alert webhook receives. */
public enum AlertFormat {
    /** {@code {severity, message, details, timestamp, service}}, for any receiver (n8n, Alertmanager bridges, ...). */
    JSON,
    /** A Slack incoming webhook's {@code {"text": ...}}, readable in the channel. */
    SLACK;

    private static final String SLACK_WEBHOOK_HOST = "hooks.slack.com";

    /** Slack's own webhook host speaks Slack; everything else the generic JSON unless configured. */
    public static AlertFormat forUrl(URI url) {
        return SLACK_WEBHOOK_HOST.equalsIgnoreCase(url.getHost()) ? SLACK : JSON;
    }

    byte[] body(Alert alert, Instant now) {
        return this == SLACK ? SlackMessage.body(alert) : GenericPayload.body(alert, now);
    }
}
