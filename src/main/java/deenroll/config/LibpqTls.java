package deenroll.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * TLS settings as libpq (psql) takes them, for the JDBC driver, which on its
 * own reads neither the PGSSL* variables nor libpq's rule for {@code require}:
 * <ul>
 * <li>{@code PGSSLMODE}, {@code PGSSLROOTCERT}, {@code PGSSLCERT}, {@code PGSSLKEY}
 *     apply wherever the URL has no {@code sslmode}, {@code sslrootcert},
 *     {@code sslcert}, {@code sslkey} of its own (the URL's parameters win);</li>
 * <li>{@code sslmode=require} verifies the server's certificate against the root
 *     certificate when one is there ({@code sslrootcert}, else
 *     {@code ~/.postgresql/root.crt}): libpq then acts as for {@code verify-ca},
 *     where the driver would encrypt without checking whom it talks to.</li>
 * </ul>
 */
public final class LibpqTls {

    /** The driver's parameter and the libpq variable that stands in for it. */
    private static final Map<String, String> VARIABLES = Map.of(
            "sslmode", "PGSSLMODE",
            "sslrootcert", "PGSSLROOTCERT",
            "sslcert", "PGSSLCERT",
            "sslkey", "PGSSLKEY");

    private LibpqTls() {
    }

    /** The root certificate libpq and the driver look for when none is named. */
    public static Path defaultRootCert() {
        return Path.of(System.getProperty("user.home"), ".postgresql", "root.crt");
    }

    /** {@code parameters} with the PGSSL* variables filled in and libpq's {@code require} rule applied. */
    static Map<String, String> resolve(Map<String, String> parameters, Map<String, String> env, Path defaultRootCert) {
        Map<String, String> resolved = new LinkedHashMap<>(parameters);
        VARIABLES.forEach((parameter, variable) -> {
            String value = env.get(variable);
            if (!resolved.containsKey(parameter) && value != null && !value.isEmpty()) {
                resolved.put(parameter, parameter.equals("sslmode") ? sslMode(value, variable) : value);
            }
        });
        if ("require".equals(resolved.get("sslmode"))) {
            Path root = resolved.containsKey("sslrootcert") ? Path.of(resolved.get("sslrootcert")) : defaultRootCert;
            if (Files.isRegularFile(root)) {
                resolved.put("sslmode", "verify-ca");
                resolved.put("sslrootcert", root.toString());
            }
        }
        return resolved;
    }

    /** True for the modes in which the server's certificate is checked against a root certificate. */
    static boolean verifies(String sslMode) {
        return "verify-ca".equals(sslMode) || "verify-full".equals(sslMode);
    }

    static String sslMode(String value, String source) {
        return switch (value) {
            case "disable", "allow", "prefer", "require", "verify-ca", "verify-full" -> value;
            default -> throw new UsageException(
                    source + ": expected one of disable, allow, prefer, require, verify-ca, verify-full");
        };
    }
}
