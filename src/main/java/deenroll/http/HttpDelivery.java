package deenroll.http;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;

/**
 * Sends one HTTP request to a monitoring endpoint (alert webhook, Pushgateway,
 * dead-man switch) and never throws. Retried with doubling backoff is only what
 * is safe to send again: a server error (5xx, the server answered and took
 * nothing), a connection that was never made, and, for an idempotent method
 * (PUT, GET), any failure. A POST that failed after it was sent (a read timeout,
 * a reset) may have arrived, and sending it again would post a second Slack
 * message, so it is given up on. A 4xx is final, since sending the same request
 * again cannot fix it. Everything, retries included,
 * ends within the total budget, so a monitoring outage never holds up the job.
 * Credentials in the URL ({@code https://user:pass@host/...}) are sent as a
 * Basic Authorization header, never as part of the request line.
 */
public final class HttpDelivery {

    /** What happened: delivered or not, the last HTTP status (0 when none), attempts made, the last problem. */
    public record Outcome(boolean delivered, int status, int attempts, String problem) {
    }

    private final HttpClient http;
    private final Duration attemptTimeout;
    private final Duration total;
    private final Duration firstBackoff;

    public HttpDelivery(Duration attemptTimeout, Duration total, Duration firstBackoff) {
        this.attemptTimeout = attemptTimeout;
        this.total = total;
        this.firstBackoff = firstBackoff;
        this.http = HttpClient.newBuilder().connectTimeout(attemptTimeout).build();
    }

    /** Two-second attempts, five seconds in all, 250 ms before the first retry. */
    public static HttpDelivery standard() {
        return new HttpDelivery(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofMillis(250));
    }

    public Outcome send(String method, URI url, String contentType, byte[] body) {
        HttpRequest.Builder request = request(url)
                .header("Content-Type", contentType)
                .method(method, HttpRequest.BodyPublishers.ofByteArray(body));
        Instant deadline = Instant.now().plus(total);
        Duration backoff = firstBackoff;
        int attempts = 0;
        int status = 0;
        String problem = "not attempted";
        while (true) {
            Duration left = Duration.between(Instant.now(), deadline);
            if (left.isNegative() || left.isZero()) {
                return new Outcome(false, status, attempts, problem + " (gave up after " + attempts + " attempt(s))");
            }
            attempts++;
            try {
                HttpResponse<Void> response = http.send(
                        request.timeout(min(attemptTimeout, left)).build(), HttpResponse.BodyHandlers.discarding());
                status = response.statusCode();
                if (status < 300) {
                    return new Outcome(true, status, attempts, null);
                }
                problem = "HTTP " + status;
                if (status < 500) {
                    return new Outcome(false, status, attempts, problem);
                }
            } catch (IOException e) {
                problem = e.getClass().getSimpleName();
                if (!neverArrived(e) && !idempotent(method)) {
                    return new Outcome(false, status, attempts, problem + " after the request was sent (not repeated: it may have arrived)");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Outcome(false, status, attempts, "interrupted");
            }
            if (Duration.between(Instant.now(), deadline).compareTo(backoff) <= 0) {
                return new Outcome(false, status, attempts, problem + " (gave up after " + attempts + " attempt(s))");
            }
            try {
                Thread.sleep(backoff.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Outcome(false, status, attempts, "interrupted");
            }
            backoff = backoff.multipliedBy(2);
        }
    }

    /**
     * The body of a GET that answered 200 in one attempt, or empty: a read
     * that fails is not retried, the caller goes on without what it asked.
     */
    public Optional<byte[]> get(URI url) {
        try {
            HttpResponse<byte[]> response = http.send(request(url).timeout(attemptTimeout).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            return response.statusCode() == 200 ? Optional.of(response.body()) : Optional.empty();
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    private static HttpRequest.Builder request(URI url) {
        HttpRequest.Builder request = HttpRequest.newBuilder(withoutUserInfo(url));
        if (url.getRawUserInfo() != null) {
            request.header("Authorization", "Basic " + Base64.getEncoder()
                    .encodeToString(decode(url.getRawUserInfo()).getBytes(StandardCharsets.UTF_8)));
        }
        return request;
    }

    /** The request never reached the server: no connection was made. */
    private static boolean neverArrived(IOException e) {
        return e instanceof HttpConnectTimeoutException || e instanceof ConnectException
                || e.getCause() instanceof ConnectException;
    }

    /** RFC 9110's idempotent methods: sending one twice has the effect of sending it once. */
    private static boolean idempotent(String method) {
        return switch (method) {
            case "GET", "HEAD", "PUT", "DELETE", "OPTIONS" -> true;
            default -> false;
        };
    }

    /** The part of a URL that may be logged: webhook and ping URLs carry their token in the path. */
    public static String describe(URI url) {
        return url.getScheme() + "://" + url.getHost() + (url.getPort() < 0 ? "" : ":" + url.getPort());
    }

    /** The URL as sent: its raw (still encoded) path and query as given, so a token's {@code %26} stays one. */
    private static URI withoutUserInfo(URI url) {
        if (url.getRawUserInfo() == null) {
            return url;
        }
        return URI.create(url.getScheme() + "://" + url.getHost() + (url.getPort() < 0 ? "" : ":" + url.getPort())
                + (url.getRawPath() == null ? "" : url.getRawPath()) + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery()));
    }

    private static String decode(String userInfo) {
        return java.net.URLDecoder.decode(userInfo.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
