package deenroll.control;

import deenroll.engine.Runs;

/** Who pauses or resumes: the OS user and the host, as the pause's paused_by / resumed_by. */
public final class Operator {

    private Operator() {
    }

    /** {@code user@host}, the host named as run rows name it. */
    public static String current() {
        return System.getProperty("user.name") + "@" + Runs.host();
    }
}
