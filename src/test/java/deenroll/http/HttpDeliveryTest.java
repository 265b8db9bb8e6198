package deenroll.http;

import deenroll.support.HttpRecorder;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Retries on 5xx, refused connections and an idempotent request's timeout, never on
 * a 4xx or a POST that timed out once sent, within a total budget; URL credentials
 * become a header.
 */
class HttpDeliveryTest {

    private static final byte[] BODY = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);

    private static HttpDelivery delivery(Duration attempt, Duration total) {
        return new HttpDelivery(attempt, total, Duration.ofMillis(50));
    }

    @Test
    void serverErrorsAreRetriedUntilDelivered() throws Exception {
        try (HttpRecorder server = new HttpRecorder(503, 502, 200)) {
            HttpDelivery.Outcome outcome = delivery(Duration.ofSeconds(2), Duration.ofSeconds(10))
                    .send("POST", URI.create(server.url("/hook")), "application/json", BODY);

            assertThat(outcome.delivered()).isTrue();
            assertThat(outcome.attempts()).isEqualTo(3);
            assertThat(server.requests()).extracting(HttpRecorder.Request::body).containsOnly("{\"a\":1}").hasSize(3);
        }
    }

    @Test
    void aClientErrorIsNotRetried() throws Exception {
        try (HttpRecorder server = new HttpRecorder(400, 200)) {
            HttpDelivery.Outcome outcome = delivery(Duration.ofSeconds(2), Duration.ofSeconds(10))
                    .send("POST", URI.create(server.url("/hook")), "application/json", BODY);

            assertThat(outcome.delivered()).isFalse();
            assertThat(outcome.status()).isEqualTo(400);
            assertThat(server.requests()).hasSize(1);
        }
    }

    @Test
    void aTimedOutPutIsRetried() throws Exception {
        try (HttpRecorder server = new HttpRecorder(200).hanging(0, Duration.ofSeconds(5))) {
            HttpDelivery.Outcome outcome = delivery(Duration.ofMillis(300), Duration.ofSeconds(4))
                    .send("PUT", URI.create(server.url("/metrics")), "text/plain", BODY);

            assertThat(outcome.delivered()).isTrue();
            assertThat(outcome.attempts()).isEqualTo(2);
        }
    }

    @Test
    void aPostThatTimedOutAfterItWasSentIsNotRepeated() throws Exception {
        // the server got the alert and answers late: a second POST would be a second Slack message
        try (HttpRecorder server = new HttpRecorder(200).hanging(0, Duration.ofSeconds(2))) {
            HttpDelivery.Outcome outcome = delivery(Duration.ofMillis(300), Duration.ofSeconds(4))
                    .send("POST", URI.create(server.url("/hook")), "application/json", BODY);

            assertThat(outcome.delivered()).isFalse();
            assertThat(outcome.attempts()).isEqualTo(1);
            assertThat(outcome.problem()).contains("HttpTimeoutException").contains("not repeated");
            assertThat(server.requests()).as("the one POST arrived, and only it").hasSize(1);
        }
    }

    @Test
    void aPostWhoseConnectionWasRefusedIsRetried() {
        // nothing listens: the request provably never arrived, so every attempt within the budget is made
        HttpDelivery.Outcome outcome = delivery(Duration.ofMillis(300), Duration.ofMillis(500))
                .send("POST", URI.create("http://127.0.0.1:1/hook"), "application/json", BODY);

        assertThat(outcome.attempts()).isGreaterThan(1);
    }

    @Test
    void aServerThatKeepsFailingIsGivenUpOnWithinTheBudget() throws Exception {
        try (HttpRecorder server = new HttpRecorder(500)) {
            // backoff 50, 100, 200, 400 ms: a 500 ms budget leaves room for at most 4 attempts
            HttpDelivery.Outcome outcome = delivery(Duration.ofMillis(300), Duration.ofMillis(500))
                    .send("POST", URI.create(server.url("/hook")), "application/json", BODY);

            assertThat(outcome.delivered()).isFalse();
            assertThat(outcome.problem()).contains("HTTP 500").contains("gave up");
            assertThat(server.requests().size()).isBetween(1, 4);
        }
    }

    @Test
    void anUnreachableServerIsNotDeliveredAndDoesNotThrow() {
        HttpDelivery.Outcome outcome = delivery(Duration.ofMillis(300), Duration.ofMillis(500))
                .send("POST", URI.create("http://127.0.0.1:1/hook"), "application/json", BODY);

        assertThat(outcome.delivered()).isFalse();
        assertThat(outcome.problem()).contains("ConnectException");
    }

    @Test
    void credentialsInTheUrlAreSentAsBasicAuthAndNotInThePath() throws Exception {
        try (HttpRecorder server = new HttpRecorder(200)) {
            URI url = URI.create(server.url("/metrics").replace("http://", "http://push:s3cr%40t@"));

            delivery(Duration.ofSeconds(2), Duration.ofSeconds(5)).send("PUT", url, "text/plain", BODY);

            HttpRecorder.Request request = server.requests().get(0);
            assertThat(request.path()).isEqualTo("/metrics");
            assertThat(request.authorization()).isEqualTo("Basic "
                    + Base64.getEncoder().encodeToString("push:s3cr@t".getBytes(StandardCharsets.UTF_8)));
            assertThat(HttpDelivery.describe(url)).doesNotContain("s3cr").doesNotContain("/metrics");
        }
    }

    @Test
    void withCredentialsInTheUrlItsEncodedQueryIsSentAsGiven() throws Exception {
        try (HttpRecorder server = new HttpRecorder(200)) {
            URI url = URI.create(server.url("/ping/a%2Fb/0?token=x%26y&rid=1").replace("http://", "http://hc:pw@"));

            delivery(Duration.ofSeconds(2), Duration.ofSeconds(5)).send("POST", url, "text/plain", BODY);

            HttpRecorder.Request request = server.requests().get(0);
            assertThat(request.path()).isEqualTo("/ping/a%2Fb/0");
            assertThat(request.query()).isEqualTo("token=x%26y&rid=1");
            assertThat(request.authorization()).isNotNull();
        }
    }
}
