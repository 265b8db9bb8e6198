package deenroll.alert;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.Map;

/**
 * An alert as a Slack message: severity and what happened on the first line,
 * then the client, the run, the counts, the error and the next step, each on
 * its own line. The details that only a machine reads stay out.
 */
final class SlackMessage {

    private static final ObjectMapper JSON = new ObjectMapper();

    private SlackMessage() {
    }

    static byte[] body(Alert alert) {
        try {
            return JSON.writeValueAsBytes(Map.of("text", text(alert)));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String text(Alert alert) {
        Map<String, Object> d = alert.details();
        StringBuilder text = new StringBuilder()
                .append(icon(alert.severity())).append(" *deenroll ").append(alert.severity().name()).append("*: ")
                .append(escape(alert.message()));
        if (d.containsKey("clientName")) {
            line(text, "Client", d.get("clientName") + (d.containsKey("clientId") ? " (" + d.get("clientId") + ")" : ""));
        }
        if (d.containsKey("runId")) {
            line(text, "Run", String.valueOf(d.get("runId")));
        }
        if (d.containsKey("leadsDeEnrolled")) {
            line(text, "Leads", d.get("leadsDeEnrolled") + " de-enrolled, " + d.getOrDefault("leadsFailed", 0) + " failed");
        }
        if (d.containsKey("error")) {
            line(text, "Error", String.valueOf(d.get("error")));
        }
        if (d.get("problems") instanceof Collection<?> problems) {
            problems.forEach(p -> text.append("\n• ").append(escape(String.valueOf(p))));
        }
        if (d.containsKey(Alert.NEXT_STEP)) {
            line(text, "Next step", String.valueOf(d.get(Alert.NEXT_STEP)));
        }
        return text.toString();
    }

    private static void line(StringBuilder text, String label, String value) {
        text.append("\n*").append(label).append(":* ").append(escape(value));
    }

    private static String icon(Severity severity) {
        return switch (severity) {
            case CRITICAL -> ":rotating_light:";
            case WARNING -> ":warning:";
            case INFO -> ":white_check_mark:";
        };
    }

    /** Slack reads &, < and > as markup (links, mentions); error messages may contain them. */
    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
