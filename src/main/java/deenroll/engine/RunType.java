package deenroll.engine;

/** The run_type of an invocation and its run rows: how it was started. */
public enum RunType {
    SCHEDULED, MANUAL, MIGRATION;

    public String sql() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
