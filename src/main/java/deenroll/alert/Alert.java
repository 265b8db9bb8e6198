package deenroll.alert;

import java.util.Map;

/**
 * Something an operator must hear about: a failed client, a crashed run, a bad
 * health result. {@code condition} names the state it reports (for example
 * {@code run-failed:<client id>}): the same condition is not repeated on every
 * run, and is declared resolved when it clears.
 */
public record Alert(Severity severity, String condition, String message, Map<String, Object> details) {
    public Alert {
        details = Map.copyOf(details);
    }

    /** The operator's next step, when the alert has one: details key {@value}. */
    public static final String NEXT_STEP = "nextStep";
}
