package deenroll.prometheus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Debian's Prometheus, node_exporter and Pushgateway, started on free
 * 127.0.0.1 ports in a directory of their own: node_exporter with only its
 * textfile collector on {@link #textfileDirectory()}, Prometheus scraping it
 * and the Pushgateway (honor_labels, as the Pushgateway's docs ask) every
 * second and evaluating deploy/prometheus/deenroll.rules.yml every second.
 * Stopped, all three, on close.
 */
final class PrometheusStack implements AutoCloseable {

    /** Debian's names first (prometheus, prometheus-node-exporter, prometheus-pushgateway), then upstream's. */
    enum Binary {
        PROMETHEUS("prometheus", "prometheus"),
        PROMTOOL("promtool", "promtool"),
        NODE_EXPORTER("prometheus-node-exporter", "node_exporter"),
        PUSHGATEWAY("prometheus-pushgateway", "pushgateway");

        private final String debian;
        private final String upstream;

        Binary(String debian, String upstream) {
            this.debian = debian;
            this.upstream = upstream;
        }

        Optional<Path> path() {
            for (String name : List.of(debian, upstream)) {
                for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/bin:/usr/sbin").split(":")) {
                    Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
                    if (Files.isExecutable(candidate)) {
                        return Optional.of(candidate);
                    }
                }
            }
            return Optional.empty();
        }

        String debianName() {
            return debian;
        }
    }

    static final Path RULES = Path.of("deploy/prometheus/deenroll.rules.yml").toAbsolutePath();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    private final Path dir;
    private final List<Process> processes = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final int prometheusPort;
    private final int pushgatewayPort;

    /** Why the stack cannot start here (a binary missing), or empty. */
    static Optional<String> missing() {
        List<String> absent = new ArrayList<>();
        for (Binary b : Binary.values()) {
            if (b.path().isEmpty()) {
                absent.add(b.debianName());
            }
        }
        return absent.isEmpty() ? Optional.empty() : Optional.of("not installed: " + String.join(", ", absent)
                + " (as root: apt-get install -y prometheus prometheus-node-exporter prometheus-pushgateway)");
    }

    PrometheusStack(Path dir) throws IOException, InterruptedException {
        this.dir = dir;
        Files.createDirectories(textfileDirectory());
        int nodePort = freePort();
        pushgatewayPort = freePort();
        prometheusPort = freePort();
        try {
            start("node-exporter", Binary.NODE_EXPORTER, "--web.listen-address=127.0.0.1:" + nodePort,
                    "--collector.disable-defaults", "--collector.textfile",
                    "--collector.textfile.directory=" + textfileDirectory());
            // Debian's build persists to /var/lib/prometheus/pushgateway.data unless told otherwise
            start("pushgateway", Binary.PUSHGATEWAY, "--web.listen-address=127.0.0.1:" + pushgatewayPort,
                    "--persistence.file=" + dir.resolve("pushgateway.data"));
            Path config = dir.resolve("prometheus.yml");
            Files.writeString(config, String.join("\n",
                    "global:",
                    "  scrape_interval: 1s",
                    "  evaluation_interval: 1s",
                    "rule_files:",
                    "  - " + RULES,
                    "scrape_configs:",
                    "  - job_name: node",
                    "    static_configs:",
                    "      - targets: ['127.0.0.1:" + nodePort + "']",
                    "  - job_name: pushgateway",
                    "    honor_labels: true",
                    "    static_configs:",
                    "      - targets: ['127.0.0.1:" + pushgatewayPort + "']",
                    ""));
            start("prometheus", Binary.PROMETHEUS, "--config.file=" + config, "--storage.tsdb.path=" + dir.resolve("data"),
                    "--web.listen-address=127.0.0.1:" + prometheusPort);
            awaitReady("http://127.0.0.1:" + nodePort + "/metrics");
            awaitReady(pushgatewayUrl() + "/-/ready");
            awaitReady("http://127.0.0.1:" + prometheusPort + "/-/ready");
            await("both targets up", "count(up == 1)", v -> v.values().stream().anyMatch(x -> x == 2));
        } catch (IOException | InterruptedException | RuntimeException | AssertionError e) {
            close();
            throw e;
        }
    }

    Path textfileDirectory() {
        return dir.resolve("textfile");
    }

    String pushgatewayUrl() {
        return "http://127.0.0.1:" + pushgatewayPort;
    }

    /** The instant vector of {@code promql} now, each sample's labels (without __name__) to its value. */
    Map<Map<String, String>, Double> query(String promql) {
        URI uri = URI.create("http://127.0.0.1:" + prometheusPort + "/api/v1/query?query="
                + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        JsonNode body;
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            body = JSON.readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        if (!"success".equals(body.path("status").asText())) {
            throw new AssertionError("query " + promql + ": " + body);
        }
        Map<Map<String, String>, Double> samples = new LinkedHashMap<>();
        for (JsonNode sample : body.path("data").path("result")) {
            Map<String, String> labels = new LinkedHashMap<>();
            sample.path("metric").fields().forEachRemaining(f -> {
                if (!f.getKey().equals("__name__")) {
                    labels.put(f.getKey(), f.getValue().asText());
                }
            });
            samples.put(labels, Double.parseDouble(sample.path("value").get(1).asText()));
        }
        return samples;
    }

    /**
     * Queries {@code promql} until its result satisfies {@code until} (scrapes
     * and rule evaluations come every second), then returns it; fails, naming
     * what it last saw, after 30 seconds.
     */
    Map<Map<String, String>, Double> await(String what, String promql, Predicate<Map<Map<String, String>, Double>> until)
            throws InterruptedException {
        Instant deadline = Instant.now().plus(PATIENCE);
        Map<Map<String, String>, Double> last = Map.of();
        while (Instant.now().isBefore(deadline)) {
            last = query(promql);
            if (until.test(last)) {
                return last;
            }
            Thread.sleep(250);
        }
        throw new AssertionError(what + ": " + promql + " still " + last + " after " + PATIENCE.toSeconds() + " s");
    }

    private void start(String name, Binary binary, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(binary.path().orElseThrow().toString());
        command.addAll(List.of(args));
        processes.add(new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".log").toFile()).redirectInput(new File("/dev/null")).start());
    }

    private void awaitReady(String url) throws InterruptedException {
        Instant deadline = Instant.now().plus(PATIENCE);
        while (Instant.now().isBefore(deadline)) {
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError(url + " not ready after " + PATIENCE.toSeconds() + " s; logs in " + dir);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() {
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            try {
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
    }
}
