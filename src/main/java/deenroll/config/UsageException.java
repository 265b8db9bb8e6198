package deenroll.config;

/**
 * A bad option or environment value. Its message is the one line the operator
 * sees: it names the option or variable and what is accepted, and never echoes
 * a value that could hold a secret.
 */
public final class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
