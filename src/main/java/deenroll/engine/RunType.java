package deenroll.engine;

/** The run_type of a run row: how the invocation was started. */
public enum RunType {
    SCHEDULED, MANUAL, RETRY, MIGRATION;

    public String sql() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
