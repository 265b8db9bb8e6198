package deenroll.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * How DATABASE_URL / --database-url / the PG* variables become a JDBC URL with the
 * credentials kept apart, and libpq's TLS variables and rules apply to it. The password must be usable (decoded) but never end
 * up in the URL that messages are built from, nor in any error message.
 */
class DatabaseTargetTest {

    private static final String PASSWORD = "S3cretPw";
    private static final Path NO_ROOT_CERT = Path.of("/nonexistent/.postgresql/root.crt");

    @Test
    void postgresUrlWithEverythingGivesJdbcUrlAndSeparateDecodedCredentials() {
        // user "app@ops", password "p@ss:w/o%rd+1": the characters a URL must percent-encode, and a literal '+'
        DatabaseTarget t = DatabaseTarget.fromUrl(
                "postgres://app%40ops:p%40ss%3Aw%2Fo%25rd+1@db.example.com:6543/campaigns?sslmode=require",
                "DATABASE_URL");

        assertThat(t.jdbcUrl()).isEqualTo("jdbc:postgresql://db.example.com:6543/campaigns?sslmode=require");
        assertThat(t.user()).isEqualTo("app@ops");
        assertThat(t.password()).isEqualTo("p@ss:w/o%rd+1");
    }

    @Test
    void postgresqlSchemeIsAcceptedTooAndThePortDefaultsTo5432() {
        DatabaseTarget t = DatabaseTarget.fromUrl("postgresql://deenroll@db.internal/app", "DATABASE_URL");

        assertThat(t.jdbcUrl()).isEqualTo("jdbc:postgresql://db.internal:5432/app");
        assertThat(t.user()).isEqualTo("deenroll");
        assertThat(t.password()).isNull();
    }

    @Test
    void everySslModeLibpqKnowsIsAccepted() {
        for (String mode : new String[] {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}) {
            DatabaseTarget t = DatabaseTarget.fromUrl("postgres://u:pw@h:5432/db?sslmode=" + mode, "DATABASE_URL");
            assertThat(t.jdbcUrl()).isEqualTo("jdbc:postgresql://h:5432/db?sslmode=" + mode);
        }
    }

    @Test
    void ipv6HostKeepsItsBrackets() {
        DatabaseTarget t = DatabaseTarget.fromUrl("postgres://u:pw@[::1]:5433/db", "DATABASE_URL");

        assertThat(t.jdbcUrl()).isEqualTo("jdbc:postgresql://[::1]:5433/db");
    }

    @Test
    void jdbcUrlIsReadByTheDriversParserAndItsCredentialsAreKeptApart() {
        DatabaseTarget t = DatabaseTarget.fromUrl(
                "jdbc:postgresql://db.example.com:5433/app?user=deenroll&password=p%40" + PASSWORD + "&sslmode=require",
                "DATABASE_URL");

        assertThat(t.jdbcUrl()).isEqualTo("jdbc:postgresql://db.example.com:5433/app?sslmode=require");
        assertThat(t.user()).isEqualTo("deenroll");
        assertThat(t.password()).isEqualTo("p@" + PASSWORD);
    }

    @Test
    void severalHostsAreKeptWithTheirPorts() {
        DatabaseTarget t = DatabaseTarget.fromUrl("jdbc:postgresql://a.internal:5432,b.internal:5433/app?user=u",
                "DATABASE_URL");

        assertThat(t.describe()).isEqualTo("a.internal:5432,b.internal:5433/app");
        assertThat(t.jdbcUrl()).isEqualTo("jdbc:postgresql://a.internal:5432,b.internal:5433/app");
    }

    @Test
    void onlyLoopbackHostsAreLocal() {
        assertThat(DatabaseTarget.fromUrl("postgres://u@localhost/db", "t").isLocal()).isTrue();
        assertThat(DatabaseTarget.fromUrl("postgres://u@127.0.0.1/db", "t").isLocal()).isTrue();
        assertThat(DatabaseTarget.fromUrl("postgres://u@[::1]/db", "t").isLocal()).isTrue();
        assertThat(DatabaseTarget.fromUrl("postgres://u@db.internal/db", "t").isLocal()).isFalse();
        assertThat(DatabaseTarget.fromUrl("postgres://u@localhost.example.com/db", "t").isLocal()).isFalse();
        assertThat(DatabaseTarget.fromUrl("jdbc:postgresql://localhost,db.internal/db", "t").isLocal()).isFalse();
    }

    @Test
    void describeAndToStringNameTheTargetWithoutThePassword() {
        DatabaseTarget fromUri = DatabaseTarget.fromUrl("postgres://u:" + PASSWORD + "@db.example.com:6543/app", "DATABASE_URL");
        DatabaseTarget fromJdbc = DatabaseTarget.fromUrl(
                "jdbc:postgresql://db.example.com:6543/app?user=u&password=" + PASSWORD, "DATABASE_URL");

        assertThat(fromUri.describe()).isEqualTo("db.example.com:6543/app");
        assertThat(fromJdbc.describe()).isEqualTo("db.example.com:6543/app");
        assertThat(fromUri.toString()).doesNotContain(PASSWORD);
        assertThat(fromJdbc.toString()).doesNotContain(PASSWORD);
    }

    @Test
    void pgVariablesAreUsedAsPsqlWouldUseThem() {
        Map<String, String> env = Map.of("PGHOST", "db.internal", "PGPORT", "6432", "PGUSER", "app",
                "PGPASSWORD", PASSWORD, "PGDATABASE", "appdb", "PGSSLMODE", "verify-full");

        DatabaseTarget t = DatabaseTarget.fromPgEnvironment(env).withLibpqTls(env, NO_ROOT_CERT);

        assertThat(t.jdbcUrl()).isEqualTo("jdbc:postgresql://db.internal:6432/appdb?sslmode=verify-full");
        assertThat(t.user()).isEqualTo("app");
        assertThat(t.password()).isEqualTo(PASSWORD);
    }

    @Test
    void pgSslVariablesFillInWhatTheUrlLacksAndTheUrlsParametersWin() {
        Map<String, String> env = Map.of("PGSSLMODE", "verify-full", "PGSSLROOTCERT", "/etc/ssl/env-root.crt",
                "PGSSLCERT", "/etc/ssl/client.crt", "PGSSLKEY", "/etc/ssl/client.pk8");

        DatabaseTarget bare = DatabaseTarget.fromUrl("postgres://u:pw@h:5432/db", "DATABASE_URL")
                .withLibpqTls(env, NO_ROOT_CERT);
        DatabaseTarget own = DatabaseTarget.fromUrl(
                "jdbc:postgresql://h:5432/db?sslmode=verify-ca&sslrootcert=/etc/ssl/url-root.crt", "DATABASE_URL")
                .withLibpqTls(env, NO_ROOT_CERT);

        assertThat(bare.parameters()).containsOnly(Map.entry("sslmode", "verify-full"),
                Map.entry("sslrootcert", "/etc/ssl/env-root.crt"), Map.entry("sslcert", "/etc/ssl/client.crt"),
                Map.entry("sslkey", "/etc/ssl/client.pk8"));
        assertThat(own.parameters()).contains(Map.entry("sslmode", "verify-ca"),
                Map.entry("sslrootcert", "/etc/ssl/url-root.crt"));
        assertThat(own.verifiesServerCertificate()).isTrue();
    }

    @Test
    void requireWithARootCertificateVerifiesAsLibpqDoes(@TempDir Path home) throws Exception {
        Path root = Files.writeString(home.resolve("root.crt"), "a CA certificate");
        DatabaseTarget require = DatabaseTarget.fromUrl("postgres://u@db.internal/db?sslmode=require", "DATABASE_URL");

        DatabaseTarget withDefaultRoot = require.withLibpqTls(Map.of(), root);
        DatabaseTarget withNamedRoot = require.withLibpqTls(Map.of("PGSSLROOTCERT", root.toString()), NO_ROOT_CERT);
        DatabaseTarget withoutRoot = require.withLibpqTls(Map.of(), NO_ROOT_CERT);
        DatabaseTarget withMissingRoot = require.withLibpqTls(
                Map.of("PGSSLROOTCERT", home.resolve("none.crt").toString()), root);

        assertThat(withDefaultRoot.parameters()).containsOnly(Map.entry("sslmode", "verify-ca"),
                Map.entry("sslrootcert", root.toString()));
        assertThat(withNamedRoot.sslMode()).isEqualTo("verify-ca");
        assertThat(withoutRoot.sslMode()).isEqualTo("require");
        assertThat(withoutRoot.verifiesServerCertificate()).isFalse();
        assertThat(withMissingRoot.sslMode()).as("libpq: a named root file that is not there verifies nothing")
                .isEqualTo("require");
    }

    @Test
    void withoutPgVariablesLibpqDefaultsApplyAndTheDatabaseIsNamedAfterTheUser() {
        DatabaseTarget t = DatabaseTarget.fromPgEnvironment(Map.of("PGUSER", "app"));

        assertThat(t.jdbcUrl()).isEqualTo("jdbc:postgresql://localhost:5432/app");
        assertThat(t.user()).isEqualTo("app");
        assertThat(t.password()).isNull();
    }

    @Test
    void emptyPgVariablesCountAsUnset() {
        // n8n and shells pass unset variables as empty strings; libpq then uses its defaults
        Map<String, String> env = new HashMap<>();
        env.put("PGHOST", "");
        env.put("PGPORT", "");
        env.put("PGDATABASE", "");
        env.put("PGUSER", "app");

        DatabaseTarget t = DatabaseTarget.fromPgEnvironment(env);

        assertThat(t.jdbcUrl()).isEqualTo("jdbc:postgresql://localhost:5432/app");
    }

    @Test
    void invalidSslModeNamesTheSourceAndHidesThePassword() {
        UsageException e = catchThrowableOfType(UsageException.class, () -> DatabaseTarget.fromUrl(
                "postgres://u:" + PASSWORD + "@h:5432/db?sslmode=sometimes", "DATABASE_URL"));

        assertThat(e).isNotNull();
        assertThat(e.getMessage()).contains("DATABASE_URL").contains("sslmode").contains("verify-full")
                .doesNotContain(PASSWORD);
    }

    @Test
    void invalidPgSslModeAndPortNameTheirVariable() {
        assertThatThrownBy(() -> DatabaseTarget.fromPgEnvironment(Map.of())
                .withLibpqTls(Map.of("PGSSLMODE", "sometimes"), NO_ROOT_CERT))
                .isInstanceOf(UsageException.class).hasMessageContaining("PGSSLMODE");
        assertThatThrownBy(() -> DatabaseTarget.fromPgEnvironment(Map.of("PGPORT", "five")))
                .isInstanceOf(UsageException.class).hasMessageContaining("PGPORT");
        assertThatThrownBy(() -> DatabaseTarget.fromPgEnvironment(Map.of("PGPORT", "70000")))
                .isInstanceOf(UsageException.class).hasMessageContaining("PGPORT");
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {
            "postgres://u:" + PASSWORD + "@/db",                    // no host
            "postgres://u:" + PASSWORD + "@db.example.com:5432",    // no database
            "postgres://u:" + PASSWORD + "@db.example.com:5432/",   // empty database
            "postgres://u:" + PASSWORD + "@db.example.com:port/db", // port is not a number
            "postgres://u:" + PASSWORD + "@db example.com/db",      // not a URL at all
            "mysql://u:" + PASSWORD + "@db.example.com/db",         // another database's URL
            "u:" + PASSWORD + "@db.example.com/db",                 // no scheme
            "garbage " + PASSWORD,
            "postgres://u:" + PASSWORD + "@db.example.com/db?x=%zz", // a broken %-escape
            "jdbc:postgresql:",                                     // names nothing
            "jdbc:postgresql://db.example.com:5432/",               // no database
            "jdbc:postgresql://u:" + PASSWORD + "@db.example.com:5432/db", // user info before the host
            "jdbc:postgresql://127.0.0.1:5432?user=u&password=" + PASSWORD, // no / after the port
            "jdbc:postgresql://db.example.com:99999/db?password=" + PASSWORD, // port out of range
            "jdbc:postgresql://db.example.com/db?password=" + PASSWORD + "&sslmode=sometimes"
    })
    void malformedUrlsAreUsageErrorsNamingTheSourceWithoutThePassword(String url) {
        for (String source : new String[] {"DATABASE_URL", "--database-url"}) {
            UsageException e = catchThrowableOfType(UsageException.class, () -> DatabaseTarget.fromUrl(url, source));

            assertThat(e).as("%s from %s", url, source).isNotNull();
            assertThat(e.getMessage()).startsWith(source).doesNotContain(PASSWORD);
        }
    }
}
