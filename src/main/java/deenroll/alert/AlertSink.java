package deenroll.alert;

import java.util.Collection;

/** Where alerts go. Nothing here throws: an alert channel's trouble never changes the job's outcome. */
public interface AlertSink {

    void send(Alert alert);

    /**
     * These conditions no longer hold; a sink that remembers conditions says so
     * once for each that it had reported. All at once: an invocation clears one
     * or two conditions per client, and one statement costs less than hundreds.
     */
    default void resolve(Collection<String> conditions) {
    }

    /** For runs without DE_ENROLLMENT_ALERT_WEBHOOK. */
    AlertSink NONE = alert -> { };
}
