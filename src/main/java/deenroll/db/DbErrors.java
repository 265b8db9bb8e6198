package deenroll.db;

import java.sql.SQLException;

/** Turns a database exception into the one line an operator needs. */
public final class DbErrors {

    private DbErrors() {
    }

    /**
     * The first line of the driver's own message (jOOQ's wrapper repeats the
     * whole statement), prefixed with the SQLSTATE when there is one.
     */
    public static String describe(Throwable error) {
        Throwable cause = error;
        for (Throwable t = error; t != null && t.getCause() != t; t = t.getCause()) {
            if (t instanceof SQLException) {
                cause = t;
                break;
            }
            cause = t;
        }
        String message = cause.getMessage();
        String line = message == null ? cause.getClass().getSimpleName()
                : message.lines().findFirst().orElse(message);
        if (cause instanceof SQLException sql && sql.getSQLState() != null) {
            return line + " [SQLSTATE " + sql.getSQLState() + "]";
        }
        return line;
    }
}
