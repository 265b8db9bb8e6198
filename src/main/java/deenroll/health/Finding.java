package deenroll.health;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One evaluated rule: its level, the SOP-style message that says it, the client
 * it is about (none for a finding about the whole platform), and the command an
 * operator runs next, when there is one.
 */
public record Finding(Level level, String rule, String message, Optional<ClientRef> client, Optional<String> nextStep) {

    /** A finding about the platform as a whole, with nothing particular to run. */
    public Finding(Level level, String rule, String message) {
        this(level, rule, message, Optional.empty(), Optional.empty());
    }

    /** "Client Bright Dental (uuid) " + {@code what}, and the command to run for it. */
    static Finding aboutClient(Level level, String rule, ClientRef client, String what, String nextStep) {
        return new Finding(level, rule, "Client " + client.label() + " " + what, Optional.of(client), Optional.of(nextStep));
    }

    /** The message with the next step: what the text output, Nagios' long output and alerts show. */
    public String text() {
        return message + nextStep.map(step -> " — next: " + step).orElse("");
    }

    public String line() {
        return level.icon() + " " + text();
    }

    /** The finding in the JSON documents: level, rule, message, and clientId, clientName, nextStep when it has them. */
    public Map<String, Object> json() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("level", level.name());
        json.put("rule", rule);
        json.put("message", message);
        client.ifPresent(c -> {
            json.put("clientId", c.id().toString());
            json.put("clientName", c.name());
        });
        nextStep.ifPresent(step -> json.put("nextStep", step));
        return json;
    }
}
