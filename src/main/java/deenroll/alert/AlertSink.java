package deenroll.alert;

/** Where alerts go. Nothing here throws: an alert channel's trouble never changes the job's outcome. */
public interface AlertSink {

    void send(Alert alert);

    /** The condition no longer holds; a sink that remembers conditions says so once. */
    default void resolve(String condition) {
    }

    /** For runs without DE_ENROLLMENT_ALERT_WEBHOOK. */
    AlertSink NONE = alert -> { };
}
