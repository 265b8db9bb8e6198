package deenroll.config;

import org.postgresql.Driver;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Where the database is: its servers, database and connection parameters,
 * with the user and password kept apart, so that neither {@link #jdbcUrl()}
 * nor {@link #describe()} ever holds the password. Built from
 * {@code DATABASE_URL} ({@code postgres://} or {@code jdbc:postgresql:}, the
 * latter read by the driver's own parser) or, as psql does, from the
 * {@code PG*} variables; {@link #withLibpqTls} then applies libpq's TLS rules.
 *
 * @param hosts      the server host names, comma-separated as the driver takes them
 * @param ports      their ports, in the same order
 * @param parameters the driver's connection parameters (sslmode, ...), credentials excluded
 */
public record DatabaseTarget(String hosts, String ports, String database, Map<String, String> parameters,
                             String user, String password) {

    private static final String JDBC_PREFIX = "jdbc:postgresql:";
    private static final String JDBC_EXAMPLE = "jdbc:postgresql://host:port/db?user=...&password=...";
    private static final Pattern LOOPBACK = Pattern.compile("localhost|127(\\.\\d{1,3}){3}|::1|(0+:){7}0*1",
            Pattern.CASE_INSENSITIVE);

    public DatabaseTarget {
        parameters = Map.copyOf(parameters);
    }

    /** The target named by {@code source} (e.g. "--database-url" or "DATABASE_URL"). */
    public static DatabaseTarget fromUrl(String url, String source) {
        String trimmed = url.trim();
        if (trimmed.startsWith(JDBC_PREFIX)) {
            return fromJdbc(trimmed, source);
        }
        if (trimmed.startsWith("postgres://") || trimmed.startsWith("postgresql://")) {
            return fromPostgresUri(trimmed, source);
        }
        throw new UsageException(source + ": expected postgres://user:pass@host:port/db or " + JDBC_EXAMPLE);
    }

    /** libpq's variables and defaults: PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE (TLS: {@link #withLibpqTls}). */
    public static DatabaseTarget fromPgEnvironment(Map<String, String> env) {
        String host = set(env, "PGHOST", "localhost");
        int port = parsePort(set(env, "PGPORT", "5432"), "PGPORT");
        String user = set(env, "PGUSER", set(env, "USER", "postgres"));
        String database = set(env, "PGDATABASE", user);
        if (host.startsWith("/")) {
            // a socket directory: the JDBC driver speaks TCP only
            throw new UsageException("PGHOST: a Unix socket directory is not supported; give a host name or use DATABASE_URL");
        }
        return new DatabaseTarget(host, String.valueOf(port), database, Map.of(), user, set(env, "PGPASSWORD", null));
    }

    /**
     * This target with libpq's TLS settings applied ({@link LibpqTls}): the
     * PGSSL* variables where the URL has no such parameter, and {@code require}
     * verifying the server's certificate when a root certificate is there.
     */
    public DatabaseTarget withLibpqTls(Map<String, String> env, Path defaultRootCert) {
        return new DatabaseTarget(hosts, ports, database, LibpqTls.resolve(parameters, env, defaultRootCert),
                user, password);
    }

    /** The URL the driver connects with: no user, no password (they are passed to it apart). */
    public String jdbcUrl() {
        StringBuilder url = new StringBuilder(JDBC_PREFIX).append("//").append(servers())
                .append('/').append(encode(database));
        char sep = '?';
        for (Map.Entry<String, String> p : new TreeMap<>(parameters).entrySet()) {
            url.append(sep).append(encode(p.getKey())).append('=').append(encode(p.getValue()));
            sep = '&';
        }
        return url.toString();
    }

    /** For messages and logs: host, port and database, rebuilt from the parsed parts only. */
    public String describe() {
        return servers() + "/" + database;
    }

    /** The sslmode the driver is given, or null for its default ({@code prefer}, as libpq's). */
    public String sslMode() {
        return parameters.get("sslmode");
    }

    /** The root certificate file the driver verifies the server against (libpq's default when none is named). */
    public String sslRootCert() {
        return parameters.getOrDefault("sslrootcert", LibpqTls.defaultRootCert().toString());
    }

    /** True when the driver checks the server's certificate against a root certificate. */
    public boolean verifiesServerCertificate() {
        return LibpqTls.verifies(sslMode());
    }

    /** True when every server is this machine (localhost, a loopback address): no network to guard. */
    public boolean isLocal() {
        for (String host : hosts.split(",")) {
            String bare = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
            if (!LOOPBACK.matcher(bare).matches()) {
                return false;
            }
        }
        return true;
    }

    private String servers() {
        String[] h = hosts.split(",");
        String[] p = ports.split(",");
        StringBuilder servers = new StringBuilder();
        for (int i = 0; i < h.length; i++) {
            String host = h[i].contains(":") && !h[i].startsWith("[") ? "[" + h[i] + "]" : h[i];
            servers.append(i == 0 ? "" : ",").append(host).append(':').append(p[Math.min(i, p.length - 1)]);
        }
        return servers.toString();
    }

    /** An empty variable counts as unset, as libpq and psql treat it. */
    private static String set(Map<String, String> env, String name, String fallback) {
        String value = env.get(name);
        return value == null || value.isEmpty() ? fallback : value;
    }

    /**
     * Read by the driver's own parser, so that what is accepted here is what it
     * connects to. Nothing of the URL is echoed: it may hold a password.
     */
    private static DatabaseTarget fromJdbc(String url, String source) {
        String rest = url.substring(JDBC_PREFIX.length());
        if (rest.startsWith("//")) {
            int end = rest.indexOf('/', 2);
            String authority = rest.substring(2, end < 0 ? rest.length() : end);
            if (authority.contains("@")) {
                throw new UsageException(source + ": a jdbc:postgresql: URL takes no user:password@ before the host;"
                        + " give them as ?user=...&password=... or use postgres://user:pass@host:port/db");
            }
        }
        Properties parsed = Driver.parseURL(url, null);
        if (parsed == null) {
            throw new UsageException(source + ": not a valid jdbc:postgresql: URL (expected " + JDBC_EXAMPLE + ")");
        }
        String database = parsed.getProperty("PGDBNAME");
        if (database == null || database.isEmpty()) {
            throw new UsageException(source + ": the jdbc:postgresql: URL names no database (expected " + JDBC_EXAMPLE + ")");
        }
        Map<String, String> params = new LinkedHashMap<>();
        for (String key : parsed.stringPropertyNames()) {
            if (!key.startsWith("PG") && !key.equals("user") && !key.equals("password")) {
                params.put(key, parsed.getProperty(key));
            }
        }
        checkSslMode(params, source);
        return new DatabaseTarget(parsed.getProperty("PGHOST"), parsed.getProperty("PGPORT"), database, params,
                parsed.getProperty("user"), parsed.getProperty("password"));
    }

    private static DatabaseTarget fromPostgresUri(String url, String source) {
        try {
            return parsePostgresUri(url, source);
        } catch (IllegalArgumentException e) {
            // a malformed %-escape; the decoder's message quotes the text around it
            throw new UsageException(source + ": not a valid URL (expected postgres://user:pass@host:port/db?sslmode=...)");
        }
    }

    private static DatabaseTarget parsePostgresUri(String url, String source) {
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
                params.put(decode(eq >= 0 ? pair.substring(0, eq) : pair), eq >= 0 ? decode(pair.substring(eq + 1)) : "");
            }
        }
        // libpq also takes them as parameters; the ones before the host win
        String queryUser = params.remove("user");
        String queryPassword = params.remove("password");
        checkSslMode(params, source);
        int port = uri.getPort() < 0 ? 5432 : uri.getPort();
        return new DatabaseTarget(uri.getHost(), String.valueOf(port), database, params,
                user != null ? user : queryUser, password != null ? password : queryPassword);
    }

    private static void checkSslMode(Map<String, String> params, String source) {
        if (params.containsKey("sslmode")) {
            LibpqTls.sslMode(params.get("sslmode"), source + " sslmode");
        }
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
