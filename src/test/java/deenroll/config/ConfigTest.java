package deenroll.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Every setting resolves as option > environment variable > default, and a bad
 * value is a {@link UsageException} naming where it came from (DESIGN §2).
 */
class ConfigTest {

    private static final String TOKEN = "secret-token-123";

    private static Config env(String... keyValues) {
        Map<String, String> env = new java.util.HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            env.put(keyValues[i], keyValues[i + 1]);
        }
        return new Config(env);
    }

    // ------------------------------------------------------------------ batch size

    @ParameterizedTest
    @ValueSource(strings = {"abc", "-5", "0", "10001", "1.5", "99999999999999999999"})
    void badBatchSizeFromTheEnvironmentNamesTheVariable(String value) {
        assertThatThrownBy(() -> env("DE_ENROLLMENT_BATCH_SIZE", value).get(Settings.BATCH_SIZE, null))
                .isInstanceOf(UsageException.class)
                .hasMessageStartingWith("DE_ENROLLMENT_BATCH_SIZE")
                .hasMessageContaining("1 to 10000");
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "-5", "0", "10001"})
    void badBatchSizeOptionNamesTheOption(String value) {
        assertThatThrownBy(() -> env().get(Settings.BATCH_SIZE, value))
                .isInstanceOf(UsageException.class)
                .hasMessageStartingWith("--batch-size");
    }

    @Test
    void batchSizeBoundsAreInclusive() {
        assertThat(env("DE_ENROLLMENT_BATCH_SIZE", "1").get(Settings.BATCH_SIZE, null)).isEqualTo(1);
        assertThat(env("DE_ENROLLMENT_BATCH_SIZE", "10000").get(Settings.BATCH_SIZE, null)).isEqualTo(10_000);
        assertThat(env().get(Settings.BATCH_SIZE, "1")).isEqualTo(1);
        assertThat(env().get(Settings.BATCH_SIZE, "10000")).isEqualTo(10_000);
    }

    @Test
    void batchSizeOptionWinsOverEnvironmentWhichWinsOverDefault() {
        assertThat(env("DE_ENROLLMENT_BATCH_SIZE", "50").get(Settings.BATCH_SIZE, "7")).isEqualTo(7);
        assertThat(env("DE_ENROLLMENT_BATCH_SIZE", "50").get(Settings.BATCH_SIZE, null)).isEqualTo(50);
        assertThat(env().get(Settings.BATCH_SIZE, null)).isEqualTo(100);
    }

    @Test
    void optionIsUsedEvenWhenTheEnvironmentValueIsBad() {
        // the variable is not consulted at all when the option is given
        assertThat(env("DE_ENROLLMENT_BATCH_SIZE", "abc").get(Settings.BATCH_SIZE, "25")).isEqualTo(25);
    }

    // ------------------------------------------------------------------ max runtime

    @ParameterizedTest
    @ValueSource(strings = {"0", "-1", "abc", "4m"})
    void badMaxRuntimeNamesTheVariable(String value) {
        assertThatThrownBy(() -> env("DE_ENROLLMENT_MAX_RUNTIME", value).get(Settings.MAX_RUNTIME, null))
                .isInstanceOf(UsageException.class)
                .hasMessageStartingWith("DE_ENROLLMENT_MAX_RUNTIME");
    }

    @Test
    void maxRuntimeOptionWinsOverEnvironmentWhichWinsOverDefault() {
        assertThat(env("DE_ENROLLMENT_MAX_RUNTIME", "60000").get(Settings.MAX_RUNTIME, "1000")).isEqualTo(Duration.ofSeconds(1));
        assertThat(env("DE_ENROLLMENT_MAX_RUNTIME", "60000").get(Settings.MAX_RUNTIME, null)).isEqualTo(Duration.ofMinutes(1));
        assertThat(env().get(Settings.MAX_RUNTIME, null)).isEqualTo(Duration.ofMillis(240_000));
        assertThatThrownBy(() -> env().get(Settings.MAX_RUNTIME, "0"))
                .isInstanceOf(UsageException.class).hasMessageStartingWith("--max-runtime");
    }

    // ------------------------------------------------------------------ empty = unset

    @Test
    void emptyOrBlankVariablesCountAsUnset() {
        Config c = env("DE_ENROLLMENT_BATCH_SIZE", "", "DE_ENROLLMENT_MAX_RUNTIME", "  ", "LOG_LEVEL", "",
                "DE_ENROLLMENT_ALERT_WEBHOOK", "", "DATABASE_URL", "", "PGHOST", "pg.internal", "PGUSER", "app");

        assertThat(c.get(Settings.BATCH_SIZE, null)).isEqualTo(100);
        assertThat(c.get(Settings.MAX_RUNTIME, null)).isEqualTo(Duration.ofMillis(240_000));
        assertThat(c.get(Settings.LOG_LEVEL, null)).isEqualTo("info");
        assertThat(c.get(Settings.ALERT_WEBHOOK, null)).isEmpty();
        // an empty DATABASE_URL falls back to the PG* variables
        assertThat(c.database(null).jdbcUrl()).isEqualTo("jdbc:postgresql://pg.internal:5432/app");
    }

    // ------------------------------------------------------------------ database

    @Test
    void databaseOptionWinsOverDatabaseUrlWhichWinsOverPgVariables() {
        Config c = env("DATABASE_URL", "postgres://u:pw@from-env:5432/envdb", "PGHOST", "from-pg", "PGUSER", "pg");

        assertThat(c.database("postgres://u:pw@from-option:5432/optdb").jdbcUrl())
                .isEqualTo("jdbc:postgresql://from-option:5432/optdb");
        assertThat(c.database(null).jdbcUrl()).isEqualTo("jdbc:postgresql://from-env:5432/envdb");
        assertThat(env("PGHOST", "from-pg", "PGUSER", "pg").database(null).jdbcUrl())
                .isEqualTo("jdbc:postgresql://from-pg:5432/pg");
    }

    @Test
    void malformedDatabaseUrlNamesTheVariableOrTheOptionItCameFrom() {
        Config c = env("DATABASE_URL", "postgres://u:S3cretPw@/nohost");

        UsageException fromEnv = catchThrowableOfType(UsageException.class, () -> c.database(null));
        UsageException fromOption = catchThrowableOfType(UsageException.class,
                () -> c.database("postgres://u:S3cretPw@h:5432"));

        assertThat(fromEnv.getMessage()).startsWith("DATABASE_URL").doesNotContain("S3cretPw");
        assertThat(fromOption.getMessage()).startsWith("--database-url").doesNotContain("S3cretPw");
    }

    // ------------------------------------------------------------------ log level

    @Test
    void logLevelAcceptsTheFiveLevelsInAnyCase() {
        for (String level : new String[] {"error", "warn", "info", "debug", "trace"}) {
            assertThat(env("LOG_LEVEL", level.toUpperCase()).get(Settings.LOG_LEVEL, null)).isEqualTo(level);
        }
        assertThat(env("LOG_LEVEL", "warn").get(Settings.LOG_LEVEL, "debug")).isEqualTo("debug");
        assertThat(env().get(Settings.LOG_LEVEL, null)).isEqualTo("info");
    }

    @Test
    void unknownLogLevelNamesItsSource() {
        assertThatThrownBy(() -> env("LOG_LEVEL", "verbose").get(Settings.LOG_LEVEL, null))
                .isInstanceOf(UsageException.class).hasMessageStartingWith("LOG_LEVEL");
        assertThatThrownBy(() -> env().get(Settings.LOG_LEVEL, "loud"))
                .isInstanceOf(UsageException.class).hasMessageStartingWith("--log-level");
    }

    // ------------------------------------------------------------------ alert webhook

    @Test
    void alertWebhookAcceptsHttpAndHttps() {
        assertThat(env("DE_ENROLLMENT_ALERT_WEBHOOK", "https://hooks.example.com/T/" + TOKEN).get(Settings.ALERT_WEBHOOK, null))
                .contains(URI.create("https://hooks.example.com/T/" + TOKEN));
        assertThat(env().get(Settings.ALERT_WEBHOOK, "http://127.0.0.1:8080/alerts"))
                .contains(URI.create("http://127.0.0.1:8080/alerts"));
        assertThat(env("DE_ENROLLMENT_ALERT_WEBHOOK", "https://from-env.example.com/a")
                .get(Settings.ALERT_WEBHOOK, "https://from-option.example.com/b"))
                .contains(URI.create("https://from-option.example.com/b"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "ftp://hooks.example.com/" + TOKEN,
            "hooks.example.com/" + TOKEN,
            "http:///" + TOKEN,
            "https://hooks example.com/" + TOKEN,
            "file:///etc/" + TOKEN})
    void alertWebhookMustBeHttpAndTheMessageNeverEchoesTheUrl(String url) {
        UsageException fromEnv = catchThrowableOfType(UsageException.class,
                () -> env("DE_ENROLLMENT_ALERT_WEBHOOK", url).get(Settings.ALERT_WEBHOOK, null));
        UsageException fromOption = catchThrowableOfType(UsageException.class, () -> env().get(Settings.ALERT_WEBHOOK, url));

        assertThat(fromEnv).isNotNull();
        assertThat(fromEnv.getMessage()).startsWith("DE_ENROLLMENT_ALERT_WEBHOOK").doesNotContain(TOKEN);
        assertThat(fromOption).isNotNull();
        assertThat(fromOption.getMessage()).startsWith("--alert-webhook").doesNotContain(TOKEN);
    }

    // ------------------------------------------------------------------ client id

    @Test
    void clientIdMustBeAUuid() {
        UUID id = UUID.randomUUID();
        assertThat(Config.clientId(id.toString())).isEqualTo(id);
        assertThat(Config.clientId(id.toString().toUpperCase())).isEqualTo(id);

        for (String bad : new String[] {"42", "x'; DROP TABLE leads;--", "", "123e4567-e89b-12d3-a456-42661417400g"}) {
            assertThatThrownBy(() -> Config.clientId(bad))
                    .as(bad).isInstanceOf(UsageException.class).hasMessageStartingWith("--client-id");
        }
    }
}
