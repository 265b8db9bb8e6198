package deenroll.http;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * The base URL an operator gives for a monitoring endpoint (Pushgateway, ping
 * check), and the request URLs made from it. A base may carry a query string
 * (healthchecks.io's {@code ?create=1}, a proxy's token): paths go into the
 * path, before it, and parameters are appended to it. A fragment is never sent.
 */
public record EndpointUrl(URI base) {

    /** {@code segments} appended to the base's path, each one percent-encoded as a path segment. */
    public EndpointUrl path(String... segments) {
        StringBuilder path = new StringBuilder(base.getRawPath() == null ? "" : base.getRawPath().replaceAll("/+$", ""));
        for (String segment : segments) {
            path.append('/').append(URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return new EndpointUrl(URI.create(prefix() + path + query(base.getRawQuery())));
    }

    /** {@code name=value} appended to the base's query string. */
    public EndpointUrl parameter(String name, String value) {
        String pair = URLEncoder.encode(name, StandardCharsets.UTF_8) + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8);
        String query = base.getRawQuery() == null || base.getRawQuery().isEmpty() ? pair : base.getRawQuery() + "&" + pair;
        return new EndpointUrl(URI.create(prefix() + (base.getRawPath() == null ? "" : base.getRawPath()) + query(query)));
    }

    public URI uri() {
        return base;
    }

    private String prefix() {
        return base.getScheme() + "://" + base.getRawAuthority();
    }

    private static String query(String rawQuery) {
        return rawQuery == null ? "" : "?" + rawQuery;
    }
}
