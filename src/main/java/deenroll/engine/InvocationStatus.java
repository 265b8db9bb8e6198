package deenroll.engine;

import java.util.Locale;

/** What an invocation amounts to, in the order an operator cares about: failed > paused > partial > success. */
public enum InvocationStatus {
    SUCCESS, PARTIAL, PAUSED, FAILED;

    public String sql() {
        return name().toLowerCase(Locale.ROOT);
    }
}
