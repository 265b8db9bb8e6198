package deenroll.alert;

import java.util.Map;

/** Something an operator must hear about: a failed client, a crashed run, a bad health result. */
public record Alert(Severity severity, String message, Map<String, Object> details) {
    public Alert {
        details = Map.copyOf(details);
    }
}
