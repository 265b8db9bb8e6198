package deenroll.db;

/** A concurrent build of an index on a host table did not leave it valid ({@link HostIndexes}); `migrate` again rebuilds it. */
public final class IndexBuildFailedException extends RuntimeException {

    IndexBuildFailedException(String message) {
        super(message);
    }

    IndexBuildFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
