package deenroll.support;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A local HTTP endpoint that records every request (method, path, headers,
 * body) and answers with a scripted sequence of statuses, the last one
 * repeating: a Pushgateway, a dead-man switch service, a flaky webhook. A
 * request can be made to hang to exercise the sender's timeouts.
 */
public final class HttpRecorder implements AutoCloseable {

    /** {@code query}: the raw query string, null when the request had none. */
    public record Request(String method, String path, String query, String authorization, String contentType, String body) {
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final List<Integer> statuses;
    private final List<Integer> hangOn = new ArrayList<>();
    private final AtomicInteger seen = new AtomicInteger();
    private volatile Duration hang = Duration.ZERO;
    private volatile byte[] getBody = new byte[0];

    public HttpRecorder(Integer... statuses) throws IOException {
        this.statuses = statuses.length == 0 ? List.of(200) : List.of(statuses);
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(executor);
        server.createContext("/", exchange -> {
            int index = seen.getAndIncrement();
            try (InputStream in = exchange.getRequestBody()) {
                requests.add(new Request(exchange.getRequestMethod(), exchange.getRequestURI().getRawPath(),
                        exchange.getRequestURI().getRawQuery(),
                        exchange.getRequestHeaders().getFirst("Authorization"),
                        exchange.getRequestHeaders().getFirst("Content-Type"),
                        new String(in.readAllBytes(), StandardCharsets.UTF_8)));
            }
            if (hangOn.contains(index)) {
                try {
                    Thread.sleep(hang.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            int status = this.statuses.get(Math.min(index, this.statuses.size() - 1));
            byte[] body = "GET".equals(exchange.getRequestMethod()) ? getBody : new byte[0];
            exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }

    /** The {@code index}-th request (from 0) is answered only after {@code delay}. */
    public HttpRecorder hanging(int index, Duration delay) {
        hangOn.add(index);
        hang = delay;
        return this;
    }

    /** GET requests are answered with {@code body} (a Pushgateway's API). */
    public HttpRecorder answeringGets(String body) {
        getBody = body.getBytes(StandardCharsets.UTF_8);
        return this;
    }

    /** A base URL with a token in its path, as alert webhooks and ping URLs have. */
    public String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    public List<Request> requests() {
        return List.copyOf(requests);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
