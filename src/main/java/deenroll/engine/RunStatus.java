package deenroll.engine;

/** The status of a run row. */
public enum RunStatus {
    RUNNING, SUCCESS, PARTIAL, FAILED;

    public String sql() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
