package deenroll.alert;

/** How urgent an alert is; the JSON payload carries the lower-case name. */
public enum Severity {
    INFO, WARNING, CRITICAL;

    public String json() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
