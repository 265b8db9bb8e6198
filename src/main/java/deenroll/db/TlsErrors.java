package deenroll.db;

import deenroll.config.DatabaseTarget;

import javax.net.ssl.SSLException;
import java.security.GeneralSecurityException;
import java.util.Optional;

/**
 * Says in the operator's terms why a connection that verifies the server's
 * certificate was refused: the certificate is not signed by the root
 * certificate given, or it does not name the host connected to. The driver's
 * own words (PKIX path validation, hostnameverifier) follow.
 */
final class TlsErrors {

    private TlsErrors() {
    }

    static Optional<String> explain(Throwable error, DatabaseTarget target) {
        if (!target.verifiesServerCertificate()) {
            return Optional.empty();
        }
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String message = t.getMessage() == null ? "" : t.getMessage();
            if (message.contains("could not be verified by hostnameverifier")) {
                return Optional.of("the server's certificate does not name the host connected to (sslmode="
                        + target.sslMode() + " checks the name; connect by a name the certificate holds)");
            }
            if (t instanceof SSLException || t instanceof GeneralSecurityException) {
                return Optional.of("the server's certificate could not be verified against the root certificate "
                        + target.sslRootCert() + " (sslmode=" + target.sslMode() + ")");
            }
        }
        return Optional.empty();
    }
}
