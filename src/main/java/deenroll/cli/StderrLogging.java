package deenroll.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * Logging set up in code, found by logback through ServiceLoader: logs go to
 * stderr (stdout carries only results: text or one JSON document), INFO and up,
 * libraries at WARN. Reading an XML configuration instead costs every start
 * about a tenth of a second (docs/performance.md), and the lines are written by
 * {@link LogLineEncoder}, not a pattern layout. An explicit configuration
 * still wins: -Dlogback.configurationFile, or a logback-test.xml on the class path.
 */
public final class StderrLogging extends ContextAwareBase implements Configurator {

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null
                || StderrLogging.class.getClassLoader().getResource("logback-test.xml") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        LogLineEncoder encoder = new LogLineEncoder();
        encoder.setContext(context);
        encoder.start();

        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("STDERR");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.start();

        ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(stderr);
        context.getLogger("org.flywaydb").setLevel(Level.WARN);
        context.getLogger("com.zaxxer.hikari").setLevel(Level.WARN);
        // ERROR: jOOQ warns on every start when the server is older than its dialect (PostgreSQL 12)
        context.getLogger("org.jooq").setLevel(Level.ERROR);
        context.getLogger("io.zonky").setLevel(Level.WARN);
        // the JDBC driver's log lines quote URLs (JulBridge); its failures are reported as our own messages
        context.getLogger("org.postgresql").setLevel(Level.ERROR);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
