package deenroll.config;

import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * One setting of the command line: the option that sets it, the environment
 * variable it falls back to (if any), its default, and what it accepts. Every
 * command resolves every setting through {@link #resolve}, so the precedence
 * (option > environment > default) and the refusal of a bad value cannot
 * differ between commands. A refused value is a {@link UsageException} whose
 * one line names where the value came from and what is accepted; the value
 * itself is shown only when it cannot hold a secret.
 *
 * @param option     the option that sets it, as a message names it ("--batch-size", "-w stuck_leads")
 * @param variable   the environment variable read when the option is absent
 * @param defaultText the default as the docs and --help show it ("—": none)
 * @param accepted   what is accepted, completing "expected …"
 * @param secret     the value may hold a password or a token: it is never echoed
 */
public record Setting<T>(String option, Optional<String> variable, String defaultText, String accepted,
                         boolean secret, T defaultValue, Function<String, T> parser) {

    /** Thrown by a parser for a value it refuses, with its own "expected …" (else {@link #accepted} is said). */
    public static final class Refused extends IllegalArgumentException {
        public Refused(String expected) {
            super(expected);
        }
    }

    /** Where a value came from and its text: the source names it in a refusal. */
    public record Given(String source, String text) {
    }

    /** The given value, by precedence: {@code optionValue} (null: not given), else the variable (blank counts as unset). */
    public Optional<Given> given(String optionValue, Map<String, String> env) {
        if (optionValue != null) {
            return Optional.of(new Given(option, optionValue));
        }
        return variable.flatMap(name -> Optional.ofNullable(env.get(name)).filter(v -> !v.isBlank())
                .map(v -> new Given(name, v)));
    }

    /** The value: option, else environment variable, else the default; a bad one is refused naming its source. */
    public T resolve(String optionValue, Map<String, String> env) {
        return given(optionValue, env).map(this::parse).orElse(defaultValue);
    }

    /** Parses a value given at {@code given.source()}, as every source of this setting is parsed. */
    public T parse(Given given) {
        try {
            return parser.apply(given.text().strip());
        } catch (Refused e) {
            throw refusal(given, e.getMessage());
        } catch (IllegalArgumentException e) {
            throw refusal(given, accepted);
        }
    }

    private UsageException refusal(Given given, String expected) {
        return new UsageException(given.source() + ": expected " + expected
                + (secret ? "" : ", got '" + printable(given.text()) + "'"));
    }

    static String printable(String value) {
        String shown = value.length() > 40 ? value.substring(0, 40) + "…" : value;
        return shown.replaceAll("\\p{Cntrl}", "?");
    }
}
