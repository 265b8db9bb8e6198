package deenroll.config;

import deenroll.alert.AlertFormat;

import java.net.URI;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The settings of one process: each {@link Setting} of {@link Settings}
 * resolved from its option, else its environment variable, else its default,
 * and validated, so a bad value is one line naming its source and what is
 * accepted (a {@link UsageException}) before anything touches the database.
 */
public final class Config {

    private static final Pattern UUID_TEXT =
            Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private final Map<String, String> env;

    public Config(Map<String, String> env) {
        this.env = env;
    }

    /** The setting's value: {@code option} (null: not given), else its variable, else its default. */
    public <T> T get(Setting<T> setting, String option) {
        return setting.resolve(option, env);
    }

    /** Where the setting's value comes from, if it is given at all (an option, or its variable). */
    public Optional<Setting.Given> given(Setting<?> setting, String option) {
        return setting.given(option, env);
    }

    /** The URL (option, else DATABASE_URL, else the PG* variables), with libpq's TLS variables and rules. */
    public DatabaseTarget database(String option) {
        DatabaseTarget target = given(Settings.DATABASE_URL, option)
                .map(url -> DatabaseTarget.fromUrl(url.text(), url.source()))
                .orElseGet(() -> DatabaseTarget.fromPgEnvironment(env));
        return target.withLibpqTls(env, LibpqTls.defaultRootCert());
    }

    /** The alert body: slack or json; unset, Slack's own webhook host gets slack and any other URL json. */
    public AlertFormat alertFormat(String option, Optional<URI> webhook) {
        return get(Settings.ALERT_FORMAT, option)
                .orElseGet(() -> webhook.map(AlertFormat::forUrl).orElse(AlertFormat.JSON));
    }

    public static UUID clientId(String value) {
        return uuid(value, "--client-id");
    }

    /** A UUID in its canonical text form; the value is not echoed (it may be anything an operator pasted). */
    public static UUID uuid(String value, String source) {
        if (value == null || !UUID_TEXT.matcher(value.trim()).matches()) {
            throw new UsageException(source + ": expected a UUID like 123e4567-e89b-12d3-a456-426614174000");
        }
        return UUID.fromString(value.trim());
    }
}
