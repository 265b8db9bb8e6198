package deenroll.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.LoggingEvent;
import org.junit.jupiter.api.Test;

import java.nio.charset.Charset;
import java.sql.SQLException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The hand-written log line is the one the pattern layout made before it
 * ({@code %d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{0} - %msg%n}): operators'
 * log parsers keep working. Compared byte for byte on the same events.
 */
class LogLineEncoderTest {

    private static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{0} - %msg%n";

    @Test
    void linesAreThoseOfThePatternLayout() {
        LoggerContext context = new LoggerContext();
        PatternLayoutEncoder pattern = new PatternLayoutEncoder();
        pattern.setContext(context);
        pattern.setPattern(PATTERN);
        pattern.start();
        LogLineEncoder lines = new LogLineEncoder();
        lines.setContext(context);
        lines.start();
        Logger logger = context.getLogger("deenroll.engine.Engine");
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);

        SQLException cause = new SQLException("connection refused", "08001");
        LoggingEvent[] events = {
            new LoggingEvent("x", logger, Level.INFO, "client {}: run {} success — {} de-enrolled", null,
                    new Object[] {"Acme", "1f0c", 42}),
            new LoggingEvent("x", logger, Level.WARN, "retrying in {} ms", null, new Object[] {250}),
            new LoggingEvent("x", root, Level.ERROR, "failed", new IllegalStateException("outer", cause), null),
            new LoggingEvent("x", context.getLogger("Bare"), Level.DEBUG, "no package", null, null),
        };
        for (LoggingEvent event : events) {
            assertThat(new String(lines.encode(event), Charset.defaultCharset()))
                    .isEqualTo(new String(pattern.encode(event), Charset.defaultCharset()));
        }
        assertThat(new String(lines.encode(events[0]), Charset.defaultCharset()))
                .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) INFO  Engine - client Acme:"
                        + " run 1f0c success — 42 de-enrolled" + System.lineSeparator());
    }
}
