package deenroll.ping;

import deenroll.http.HttpDelivery;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * A dead-man switch in the healthchecks.io convention: {@code URL/start} when
 * the run begins, {@code URL/<exit code>} when it ends, with a short log as the
 * body. The service raises the alarm when the end ping is late or non-zero, so
 * it also catches the runs that never happened. A failed ping is logged
 * (without the URL's path, which identifies the check) and changes nothing else.
 */
public final class DeadManSwitch {

    private static final Logger LOG = LoggerFactory.getLogger(DeadManSwitch.class);
    /** The receiving services cap the body (healthchecks.io at 100 kB); the start of a log says the most. */
    static final int MAX_BODY_BYTES = 10_000;

    private final URI url;
    private final HttpDelivery delivery;

    public DeadManSwitch(URI url, HttpDelivery delivery) {
        this.url = url;
        this.delivery = delivery;
    }

    public void start() {
        ping("start", "deenroll run started");
    }

    public void finish(int exitCode, String log) {
        ping(String.valueOf(exitCode), log);
    }

    private void ping(String suffix, String body) {
        URI target = URI.create(url.toString().replaceAll("/+$", "") + "/" + suffix);
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_BODY_BYTES) {
            bytes = java.util.Arrays.copyOf(bytes, MAX_BODY_BYTES);
        }
        HttpDelivery.Outcome outcome;
        try {
            outcome = delivery.send("POST", target, "text/plain; charset=utf-8", bytes);
        } catch (RuntimeException e) {
            outcome = new HttpDelivery.Outcome(false, 0, 0, e.getClass().getSimpleName());
        }
        if (!outcome.delivered()) {
            LOG.warn("ping /{} to {} failed: {}", suffix, HttpDelivery.describe(url), outcome.problem());
        }
    }
}
