package deenroll.engine;

import java.util.Locale;

/** The status of a run row. */
public enum RunStatus {
    RUNNING, SUCCESS, PARTIAL, FAILED;

    public String sql() {
        return name().toLowerCase(Locale.ROOT);
    }

    static RunStatus of(String sql) {
        return valueOf(sql.toUpperCase(Locale.ROOT));
    }
}
