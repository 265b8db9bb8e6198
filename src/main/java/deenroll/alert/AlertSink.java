package deenroll.alert;

/** Where alerts go. Sending never throws: an alert channel's trouble never changes the job's outcome. */
public interface AlertSink {

    void send(Alert alert);

    /** For runs without DE_ENROLLMENT_ALERT_WEBHOOK. */
    AlertSink NONE = alert -> { };
}
