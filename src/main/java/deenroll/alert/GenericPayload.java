package deenroll.alert;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** The documented alert payload: {@code {severity, message, details, timestamp, service}}. */
final class GenericPayload {

    private static final ObjectMapper JSON = new ObjectMapper();

    private GenericPayload() {
    }

    static byte[] body(Alert alert, Instant now) {
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("severity", alert.severity().json());
        payload.put("message", alert.message());
        payload.put("details", alert.details());
        payload.put("timestamp", now.toString());
        payload.put("service", "deenroll");
        try {
            return JSON.writeValueAsBytes(payload);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
