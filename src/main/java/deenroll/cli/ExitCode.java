package deenroll.cli;

/** Exit codes of `run` and the other commands (DESIGN §2); health-check uses the Nagios ones. */
public final class ExitCode {
    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int USAGE = 2;
    public static final int PARTIAL = 3;
    public static final int DATABASE = 4;

    /** The exit code of a command that ended with {@code e} (health-check maps these to UNKNOWN). */
    static int of(RuntimeException e) {
        if (e instanceof deenroll.config.UsageException) {
            return USAGE;
        }
        return e instanceof deenroll.db.DatabaseUnavailableException ? DATABASE : FAILED;
    }

    private ExitCode() {
    }
}
