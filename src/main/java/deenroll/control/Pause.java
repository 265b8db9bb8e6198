package deenroll.control;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.Map;

/** A pause of de-enrollment, as de_enrollment_pauses keeps it: when, by whom, why. */
public record Pause(long id, OffsetDateTime pausedAt, String pausedBy, String reason) {

    /** "since <time> by <who>: <reason>", as every message about a pause says it. */
    public String since() {
        return "since " + Timestamps.text(pausedAt) + " by " + pausedBy + ": " + reason;
    }

    public Duration age(OffsetDateTime now) {
        return Duration.between(pausedAt, now);
    }

    /** The pause in the JSON of status, pause, resume and health-check: {pausedAt, pausedBy, reason}. */
    public Map<String, Object> json() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("pausedAt", Timestamps.json(pausedAt));
        json.put("pausedBy", pausedBy);
        json.put("reason", reason);
        return json;
    }
}
