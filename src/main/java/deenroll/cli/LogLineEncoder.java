package deenroll.cli;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;

import java.nio.charset.Charset;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * One log line: {@code 2026-12-01T15:19:27.946Z INFO  Engine - message}, the time
 * with milliseconds and the offset, the level padded to five, the logger's simple
 * name; then a throwable's stack trace, as logback prints it. What the pattern
 * {@code %d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{0} - %msg%n} gives, written
 * out by hand: logback's pattern layout builds its whole table of converters (some
 * fifty, each a lambda) and parses the pattern on every start of the process.
 */
final class LogLineEncoder extends EncoderBase<ILoggingEvent> {

    private static final byte[] NOTHING = new byte[0];

    private final DateTimeFormatter time = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX")
            .withZone(ZoneId.systemDefault());
    private final Charset charset = Charset.defaultCharset();

    @Override
    public byte[] headerBytes() {
        return NOTHING;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        return line(event).getBytes(charset);
    }

    @Override
    public byte[] footerBytes() {
        return NOTHING;
    }

    String line(ILoggingEvent event) {
        String logger = event.getLoggerName();
        StringBuilder line = new StringBuilder(128)
                .append(time.format(Instant.ofEpochMilli(event.getTimeStamp())))
                .append(' ');
        String level = event.getLevel().toString();
        line.append(level);
        for (int i = level.length(); i < 5; i++) {
            line.append(' ');
        }
        line.append(' ').append(logger, logger.lastIndexOf('.') + 1, logger.length())
                .append(" - ").append(event.getFormattedMessage()).append(System.lineSeparator());
        IThrowableProxy thrown = event.getThrowableProxy();
        if (thrown != null) {
            line.append(ThrowableProxyUtil.asString(thrown)); // each of its lines ends with a line separator
        }
        return line.toString();
    }
}
