package deenroll.cli;

import deenroll.config.UsageException;
import deenroll.db.DatabaseUnavailableException;
import deenroll.db.DbErrors;
import deenroll.db.IndexBuildFailedException;

/** Exit codes of `run` and the other commands (DESIGN §2); health-check uses the Nagios ones. */
public final class ExitCode {
    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int USAGE = 2;
    public static final int PARTIAL = 3;
    public static final int DATABASE = 4;

    /** The exit code of a command that ended with {@code e} (health-check maps these to UNKNOWN). */
    static int of(Exception e) {
        if (e instanceof UsageException) {
            return USAGE;
        }
        return e instanceof DatabaseUnavailableException ? DATABASE : FAILED;
    }

    /** The one line that says why: our own messages as they are, anything else as its database error. */
    static String message(Exception e) {
        return e instanceof UsageException || e instanceof DatabaseUnavailableException || e instanceof IndexBuildFailedException
                ? e.getMessage() : DbErrors.describe(e);
    }

    private ExitCode() {
    }
}
