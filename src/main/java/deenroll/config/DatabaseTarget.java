package deenroll.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where the database is: a JDBC URL plus the user and password kept apart from
 * it, so that {@link #describe()} can name the target in messages without the
 * password. Built from {@code DATABASE_URL} ({@code postgres://} or
 * {@code jdbc:postgresql:}) or, as psql does, from the {@code PG*} variables.
 */
public record DatabaseTarget(String jdbcUrl, String user, String password) {

    private static final String JDBC_PREFIX = "jdbc:postgresql:";

    /** The target named by {@code source} (e.g. "--database-url" or "DATABASE_URL"). */
    public static DatabaseTarget fromUrl(String url, String source) {
        String trimmed = url.trim();
        if (trimmed.startsWith(JDBC_PREFIX)) {
            return fromJdbc(trimmed, source);
        }
        if (trimmed.startsWith("postgres://") || trimmed.startsWith("postgresql://")) {
            return fromPostgresUri(trimmed, source);
        }
        throw new UsageException(source + ": expected postgres://user:pass@host:port/db or jdbc:postgresql://host:port/db");
    }

    /** libpq's variables and defaults: PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE. */
    public static DatabaseTarget fromPgEnvironment(Map<String, String> env) {
        String host = set(env, "PGHOST", "localhost");
        int port = parsePort(set(env, "PGPORT", "5432"), "PGPORT");
        String user = set(env, "PGUSER", set(env, "USER", "postgres"));
        String database = set(env, "PGDATABASE", user);
        Map<String, String> params = new LinkedHashMap<>();
        String sslMode = set(env, "PGSSLMODE", null);
        if (sslMode != null) {
            params.put("sslmode", sslMode(sslMode, "PGSSLMODE"));
        }
        if (host.startsWith("/")) {
            // a socket directory: the JDBC driver speaks TCP only
            throw new UsageException("PGHOST: a Unix socket directory is not supported; give a host name or use DATABASE_URL");
        }
        return new DatabaseTarget(jdbc(host, port, database, params), user, set(env, "PGPASSWORD", null));
    }

    /** An empty variable counts as unset, as libpq and psql treat it. */
    private static String set(Map<String, String> env, String name, String fallback) {
        String value = env.get(name);
        return value == null || value.isEmpty() ? fallback : value;
    }

    /** For messages and logs: host, port and database, never the password. */
    public String describe() {
        String rest = jdbcUrl.substring(JDBC_PREFIX.length());
        int query = rest.indexOf('?');
        return (query >= 0 ? rest.substring(0, query) : rest).replaceFirst("^//", "");
    }

    private static DatabaseTarget fromJdbc(String url, String source) {
        if (url.length() == JDBC_PREFIX.length()) {
            throw new UsageException(source + ": the jdbc:postgresql: URL names no database");
        }
        // credentials may be query parameters; they stay in the URL, which is never printed
        return new DatabaseTarget(url, null, null);
    }

    private static DatabaseTarget fromPostgresUri(String url, String source) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new UsageException(source + ": not a valid URL (expected postgres://user:pass@host:port/db?sslmode=...)");
        }
        if (uri.getHost() == null || uri.getHost().isBlank()) {
            throw new UsageException(source + ": the URL names no host (expected postgres://user:pass@host:port/db)");
        }
        String path = uri.getRawPath();
        if (path == null || path.length() <= 1) {
            throw new UsageException(source + ": the URL names no database (expected postgres://user:pass@host:port/db)");
        }
        String database = decode(path.substring(1));
        String user = null;
        String password = null;
        String userInfo = uri.getRawUserInfo();
        if (userInfo != null) {
            int colon = userInfo.indexOf(':');
            user = decode(colon >= 0 ? userInfo.substring(0, colon) : userInfo);
            password = colon >= 0 ? decode(userInfo.substring(colon + 1)) : null;
        }
        Map<String, String> params = new LinkedHashMap<>();
        if (uri.getRawQuery() != null) {
            for (String pair : uri.getRawQuery().split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String key = decode(eq >= 0 ? pair.substring(0, eq) : pair);
                String value = eq >= 0 ? decode(pair.substring(eq + 1)) : "";
                if (key.equals("sslmode")) {
                    value = sslMode(value, source + " sslmode");
                }
                params.put(key, value);
            }
        }
        int port = uri.getPort() < 0 ? 5432 : uri.getPort();
        return new DatabaseTarget(jdbc(uri.getHost(), port, database, params), user, password);
    }

    private static String sslMode(String value, String source) {
        return switch (value) {
            case "disable", "allow", "prefer", "require", "verify-ca", "verify-full" -> value;
            default -> throw new UsageException(
                    source + ": expected one of disable, allow, prefer, require, verify-ca, verify-full");
        };
    }

    private static int parsePort(String text, String source) {
        try {
            int port = Integer.parseInt(text.trim());
            if (port >= 1 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new UsageException(source + ": expected a port number 1-65535");
    }

    private static String jdbc(String host, int port, String database, Map<String, String> params) {
        StringBuilder url = new StringBuilder(JDBC_PREFIX).append("//")
                .append(host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host)
                .append(':').append(port).append('/').append(encode(database));
        char sep = '?';
        for (Map.Entry<String, String> p : params.entrySet()) {
            url.append(sep).append(encode(p.getKey())).append('=').append(encode(p.getValue()));
            sep = '&';
        }
        return url.toString();
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Override
    public String toString() {
        return describe();
    }
}
