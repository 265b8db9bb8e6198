package deenroll.cli;

import org.slf4j.bridge.SLF4JBridgeHandler;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The JDBC driver logs through java.util.logging, whose default console
 * handler would print to stderr past our logging set-up, and whose WARNINGs
 * quote the whole JDBC URL, password parameter and all ("JDBC URL must contain
 * a / ..."). Its records go through SLF4J (jul-to-slf4j) instead, and the
 * driver's loggers pass only SEVERE: its failures reach the operator as our
 * own one-line messages, which name the server from its parsed parts only.
 */
final class JulBridge {

    /** Held so that the level set on it is not lost when the JUL logger is collected. */
    private static final Logger DRIVER = Logger.getLogger("org.postgresql");

    private JulBridge() {
    }

    static void install() {
        DRIVER.setLevel(Level.SEVERE);
        if (!SLF4JBridgeHandler.isInstalled()) {
            SLF4JBridgeHandler.removeHandlersForRootLogger();
            SLF4JBridgeHandler.install();
        }
    }
}
