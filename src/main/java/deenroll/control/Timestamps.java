package deenroll.control;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/**
 * How pause and status times are written. Always in UTC: the invocations of
 * one database run on several hosts, and the session's time zone is whatever
 * the database was set up with.
 */
public final class Timestamps {

    private Timestamps() {
    }

    /** For people: to the second, e.g. 2026-11-29T03:12:45Z. */
    public static String text(OffsetDateTime t) {
        return DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(utc(t).truncatedTo(ChronoUnit.SECONDS));
    }

    /** For JSON: ISO-8601 with the database's full precision. */
    public static String json(OffsetDateTime t) {
        return DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(utc(t));
    }

    private static OffsetDateTime utc(OffsetDateTime t) {
        return t.withOffsetSameInstant(ZoneOffset.UTC);
    }
}
