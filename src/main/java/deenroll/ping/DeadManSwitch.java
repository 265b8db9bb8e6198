package deenroll.ping;

import deenroll.http.EndpointUrl;
import deenroll.http.HttpDelivery;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.UUID;

/**
 * A dead-man switch speaking healthchecks.io's pinging API: {@code URL/start}
 * when the run begins, {@code URL/<exit code>} when it ends (0 is success, any
 * other code a failure; the code says more than {@code /fail}), both with
 * {@code ?rid=<invocation id>} so the service pairs each end with its start
 * even when runs overlap, and a short log as the body. The service raises the
 * alarm when the end ping is late or non-zero, so it also catches the runs that
 * never happened. A failed ping is logged (without the URL's path, which
 * identifies the check) and changes nothing else.
 */
public final class DeadManSwitch {

    private static final Logger LOG = LoggerFactory.getLogger(DeadManSwitch.class);
    /** A self-hosted Healthchecks keeps the first PING_BODY_LIMIT bytes, 10,000 by default (hc-ping.com 100 kB). */
    static final int MAX_BODY_BYTES = 10_000;
    static final String CUT = "\n[cut to 10 kB]";

    private final EndpointUrl url;
    private final HttpDelivery delivery;

    public DeadManSwitch(URI url, HttpDelivery delivery) {
        this.url = new EndpointUrl(url);
        this.delivery = delivery;
    }

    public void start(UUID invocationId) {
        ping(invocationId, "start", "deenroll run " + invocationId + " started");
    }

    public void finish(UUID invocationId, int exitCode, String log) {
        ping(invocationId, String.valueOf(exitCode), log);
    }

    private void ping(UUID invocationId, String signal, String body) {
        URI target = url.path(signal).parameter("rid", invocationId.toString()).uri();
        HttpDelivery.Outcome outcome;
        try {
            outcome = delivery.send("POST", target, "text/plain; charset=utf-8", body(body));
        } catch (RuntimeException e) {
            outcome = new HttpDelivery.Outcome(false, 0, 0, e.getClass().getSimpleName());
        }
        if (!outcome.delivered()) {
            LOG.warn("ping /{} to {} failed: {}", signal, HttpDelivery.describe(url.uri()), outcome.problem());
        }
    }

    /**
     * The log's UTF-8, whole when it fits; else as much of its start as fits
     * with {@link #CUT}, cut between characters (a service that checks the body
     * "looks like UTF-8" before storing it would drop a split one).
     */
    static byte[] body(String log) {
        byte[] whole = log.getBytes(StandardCharsets.UTF_8);
        if (whole.length <= MAX_BODY_BYTES) {
            return whole;
        }
        byte[] cut = CUT.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(MAX_BODY_BYTES - cut.length);
        CharsetEncoder encoder = StandardCharsets.UTF_8.newEncoder();
        encoder.encode(CharBuffer.wrap(log), out, true);
        byte[] bytes = Arrays.copyOf(out.array(), out.position() + cut.length);
        System.arraycopy(cut, 0, bytes, out.position(), cut.length);
        return bytes;
    }
}
