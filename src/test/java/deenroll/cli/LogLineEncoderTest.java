package deenroll.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.LoggingEvent;
import org.junit.jupiter.api.Test;

import java.nio.charset.Charset;
import java.sql.SQLException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

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

    /**
     * The time is formatted once a second and its milliseconds appended: every millisecond of a
     * second, the seconds on either side of a change of offset, and zones whose offset is not whole
     * hours give what the whole pattern gives, one event after the other as an appender sees them.
     */
    @Test
    void theTimeIsThePatternsAcrossSecondsAndChangesOfOffset() {
        List<Long> times = new ArrayList<>();
        long second = Instant.parse("2026-12-01T15:19:27Z").toEpochMilli();
        for (long ms = second - 3; ms <= second + 1003; ms++) {
            times.add(ms);
        }
        // Europe/Berlin's offset changes at 01:00 UTC on these days: +01:00 to +02:00, and back
        for (String change : List.of("2026-03-29T01:00:00Z", "2026-10-25T01:00:00Z")) {
            long at = Instant.parse(change).toEpochMilli();
            times.addAll(List.of(at - 1001, at - 1000, at - 1, at, at + 1, at + 999, at + 1000));
        }
        times.addAll(List.of(0L, 999L, 1000L, -1L, -1000L, -1001L));
        for (String zone : List.of("UTC", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns", "Pacific/Chatham")) {
            ZoneId id = ZoneId.of(zone);
            DateTimeFormatter whole = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").withZone(id);
            LogLineEncoder lines = new LogLineEncoder(id);
            lines.setContext(new LoggerContext());
            lines.start();
            Logger logger = new LoggerContext().getLogger("deenroll.engine.Engine");
            for (long ms : times) {
                LoggingEvent event = new LoggingEvent("x", logger, Level.INFO, "m", null, null);
                event.setTimeStamp(ms);
                assertThat(new String(lines.encode(event), Charset.defaultCharset()))
                        .as("%s at %d ms", zone, ms)
                        .isEqualTo(whole.format(Instant.ofEpochMilli(ms)) + " INFO  Engine - m" + System.lineSeparator());
            }
        }
    }
}
