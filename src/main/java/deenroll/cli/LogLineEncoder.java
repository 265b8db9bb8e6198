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
 * fifty, each a lambda) and parses the pattern on every start of the process. The
 * time is formatted once a second and the milliseconds appended: a formatter's run
 * over the whole pattern was a third of a line's cost in a run's first few hundred
 * lines, before the JIT has compiled it.
 */
final class LogLineEncoder extends EncoderBase<ILoggingEvent> {

    private static final byte[] NOTHING = new byte[0];

    private final DateTimeFormatter seconds;
    private final DateTimeFormatter offset;
    private final Charset charset = Charset.defaultCharset();
    /** The last second formatted; replaced whole, since appenders encode outside their lock. */
    private volatile Second last = new Second(Long.MIN_VALUE, "", "");

    private record Second(long epochSecond, String time, String offset) {
    }

    LogLineEncoder() {
        this(ZoneId.systemDefault());
    }

    LogLineEncoder(ZoneId zone) {
        seconds = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss").withZone(zone);
        offset = DateTimeFormatter.ofPattern("XXX").withZone(zone);
    }

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
        StringBuilder line = new StringBuilder(128);
        time(event.getTimeStamp(), line);
        line.append(' ');
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

    /** {@code yyyy-MM-dd'T'HH:mm:ss.SSSXXX} of {@code epochMilli}, appended to {@code line}. */
    private void time(long epochMilli, StringBuilder line) {
        long epochSecond = Math.floorDiv(epochMilli, 1000);
        Second second = last;
        if (second.epochSecond() != epochSecond) {
            Instant start = Instant.ofEpochSecond(epochSecond);
            second = new Second(epochSecond, seconds.format(start), offset.format(start));
            last = second;
        }
        int millis = (int) Math.floorMod(epochMilli, 1000);
        line.append(second.time()).append('.')
                .append((char) ('0' + millis / 100)).append((char) ('0' + millis / 10 % 10)).append((char) ('0' + millis % 10))
                .append(second.offset());
    }
}
