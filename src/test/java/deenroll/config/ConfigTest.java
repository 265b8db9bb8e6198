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
        assertThatThrownBy(() -> env("DE_ENROLLMENT_BATCH_SIZE", value).batchSize(null))
                .isInstanceOf(UsageException.class)
                .hasMessageStartingWith("DE_ENROLLMENT_BATCH_SIZE")
                .hasMessageContaining("1 to 10000");
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "-5", "0", "10001"})
    void badBatchSizeOptionNamesTheOption(String value) {
        assertThatThrownBy(() -> env().batchSize(value))
                .isInstanceOf(UsageException.class)
                .hasMessageStartingWith("--batch-size");
    }

    @Test
    void batchSizeBoundsAreInclusive() {
        assertThat(env("DE_ENROLLMENT_BATCH_SIZE", "1").batchSize(null)).isEqualTo(1);
        assertThat(env("DE_ENROLLMENT_BATCH_SIZE", "10000").batchSize(null)).isEqualTo(10_000);
        assertThat(env().batchSize("1")).isEqualTo(1);
        assertThat(env().batchSize("10000")).isEqualTo(10_000);
    }

    @Test
    void batchSizeOptionWinsOverEnvironmentWhichWinsOverDefault() {
        assertThat(env("DE_ENROLLMENT_BATCH_SIZE", "50").batchSize("7")).isEqualTo(7);
        assertThat(env("DE_ENROLLMENT_BATCH_SIZE", "50").batchSize(null)).isEqualTo(50);
        assertThat(env().batchSize(null)).isEqualTo(100);
    }

    @Test
    void optionIsUsedEvenWhenTheEnvironmentValueIsBad() {
        // the variable is not consulted at all when the option is given
        assertThat(env("DE_ENROLLMENT_BATCH_SIZE", "abc").batchSize("25")).isEqualTo(25);
    }

    // ------------------------------------------------------------------ max runtime

    @ParameterizedTest
    @ValueSource(strings = {"0", "-1", "abc", "4m"})
    void badMaxRuntimeNamesTheVariable(String value) {
        assertThatThrownBy(() -> env("DE_ENROLLMENT_MAX_RUNTIME", value).maxRuntime(null))
                .isInstanceOf(UsageException.class)
                .hasMessageStartingWith("DE_ENROLLMENT_MAX_RUNTIME");
    }

    @Test
    void maxRuntimeOptionWinsOverEnvironmentWhichWinsOverDefault() {
        assertThat(env("DE_ENROLLMENT_MAX_RUNTIME", "60000").maxRuntime("1000")).isEqualTo(Duration.ofSeconds(1));
        assertThat(env("DE_ENROLLMENT_MAX_RUNTIME", "60000").maxRuntime(null)).isEqualTo(Duration.ofMinutes(1));
        assertThat(env().maxRuntime(null)).isEqualTo(Duration.ofMillis(240_000));
        assertThatThrownBy(() -> env().maxRuntime("0"))
                .isInstanceOf(UsageException.class).hasMessageStartingWith("--max-runtime");
    }

    // ------------------------------------------------------------------ empty = unset

    @Test
    void emptyOrBlankVariablesCountAsUnset() {
        Config c = env("DE_ENROLLMENT_BATCH_SIZE", "", "DE_ENROLLMENT_MAX_RUNTIME", "  ", "LOG_LEVEL", "",
                "DE_ENROLLMENT_ALERT_WEBHOOK", "", "DATABASE_URL", "", "PGHOST", "pg.internal", "PGUSER", "app");

        assertThat(c.batchSize(null)).isEqualTo(100);
        assertThat(c.maxRuntime(null)).isEqualTo(Duration.ofMillis(240_000));
        assertThat(c.logLevel(null)).isEqualTo("info");
        assertThat(c.alertWebhook(null)).isEmpty();
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
            assertThat(env("LOG_LEVEL", level.toUpperCase()).logLevel(null)).isEqualTo(level);
        }
        assertThat(env("LOG_LEVEL", "warn").logLevel("debug")).isEqualTo("debug");
        assertThat(env().logLevel(null)).isEqualTo("info");
    }

    @Test
    void unknownLogLevelNamesItsSource() {
        assertThatThrownBy(() -> env("LOG_LEVEL", "verbose").logLevel(null))
                .isInstanceOf(UsageException.class).hasMessageStartingWith("LOG_LEVEL");
        assertThatThrownBy(() -> env().logLevel("loud"))
                .isInstanceOf(UsageException.class).hasMessageStartingWith("--log-level");
    }

    // ------------------------------------------------------------------ alert webhook

    @Test
    void alertWebhookAcceptsHttpAndHttps() {
        assertThat(env("DE_ENROLLMENT_ALERT_WEBHOOK", "https://hooks.example.com/T/" + TOKEN).alertWebhook(null))
                .contains(URI.create("https://hooks.example.com/T/" + TOKEN));
        assertThat(env().alertWebhook("http://127.0.0.1:8080/alerts"))
                .contains(URI.create("http://127.0.0.1:8080/alerts"));
        assertThat(env("DE_ENROLLMENT_ALERT_WEBHOOK", "https://from-env.example.com/a")
                .alertWebhook("https://from-option.example.com/b"))
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
                () -> env("DE_ENROLLMENT_ALERT_WEBHOOK", url).alertWebhook(null));
        UsageException fromOption = catchThrowableOfType(UsageException.class, () -> env().alertWebhook(url));

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
