package deenroll.http;

import org.junit.jupiter.api.Test;

import java.net.URI;

import static org.assertj.core.api.Assertions.assertThat;

/** Paths go into the base URL's path, before its query string; parameters join the query. */
class EndpointUrlTest {

    private static String path(String base, String... segments) {
        return new EndpointUrl(URI.create(base)).path(segments).uri().toString();
    }

    @Test
    void aPathGoesBeforeTheQueryString() {
        assertThat(path("https://hc.example.org/ping/key/deenroll?create=1", "start"))
                .isEqualTo("https://hc.example.org/ping/key/deenroll/start?create=1");
        assertThat(path("http://push.example.org:9091/gw/?token=a%2Fb", "metrics", "job", "deenroll"))
                .isEqualTo("http://push.example.org:9091/gw/metrics/job/deenroll?token=a%2Fb");
    }

    @Test
    void trailingSlashesAndAnEmptyPathJoinWithOneSlash() {
        assertThat(path("http://push.example.org:9091", "metrics")).isEqualTo("http://push.example.org:9091/metrics");
        assertThat(path("http://push.example.org:9091//", "metrics")).isEqualTo("http://push.example.org:9091/metrics");
    }

    @Test
    void segmentsAreEncodedAndCredentialsAndFragmentsHandled() {
        assertThat(path("https://u:p%40ss@hc.example.org/ping#x", "a b/c"))
                .isEqualTo("https://u:p%40ss@hc.example.org/ping/a%20b%2Fc");
    }

    @Test
    void aParameterJoinsTheQueryString() {
        EndpointUrl check = new EndpointUrl(URI.create("https://hc.example.org/ping/key/deenroll?create=1"));

        assertThat(check.path("0").parameter("rid", "6f1c").uri().toString())
                .isEqualTo("https://hc.example.org/ping/key/deenroll/0?create=1&rid=6f1c");
        assertThat(new EndpointUrl(URI.create("https://hc.example.org/ping/abc")).path("start").parameter("rid", "a&b").uri()
                .toString()).isEqualTo("https://hc.example.org/ping/abc/start?rid=a%26b");
    }
}
