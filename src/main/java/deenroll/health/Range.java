package deenroll.health;

import java.math.BigDecimal;
import java.util.OptionalDouble;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A threshold range of the monitoring-plugins guidelines, {@code [@][start:][end]}:
 * a value alerts when it lies outside {@code start..end} (both ends inside), or,
 * with {@code @}, when it lies inside. {@code start} defaults to 0 and may be
 * {@code ~} (no lower end); a missing {@code end} has no upper end.
 * So {@code 10} alerts above 10 (or below 0), {@code 10:} below 10,
 * {@code ~:10} above 10, {@code 10:20} outside 10..20, {@code @10:20} inside it.
 */
public record Range(double start, double end, boolean inside) {

    private static final String NUMBER = "-?(?:\\d+(?:\\.\\d*)?|\\.\\d+)";
    private static final Pattern SYNTAX = Pattern.compile(
            "(@)?(?:(~|" + NUMBER + ")?:)?(" + NUMBER + ")?");

    public Range {
        if (Double.isNaN(start) || Double.isNaN(end) || start > end) {
            throw new IllegalArgumentException("start " + number(start) + " is above end " + number(end));
        }
    }

    /** "alert above {@code n}": the range {@code n}, as the legacy "--max-…" options meant it. */
    public static Range above(double n) {
        return new Range(0, n, false);
    }

    /** "alert below {@code n}": the range {@code n:}. */
    public static Range below(double n) {
        return new Range(n, Double.POSITIVE_INFINITY, false);
    }

    /** Parses {@code [@][start:][end]}; a bad text throws IllegalArgumentException saying what is accepted. */
    public static Range parse(String text) {
        Matcher m = SYNTAX.matcher(text == null ? "" : text.strip());
        boolean hasColon = text != null && text.contains(":");
        if (text == null || text.isBlank() || !m.matches() || (!hasColon && m.group(3) == null)
                || (m.group(2) == null && m.group(3) == null)) {
            throw new IllegalArgumentException("'" + text + "' is not a range [@][start:][end] (10, 10:, ~:10, 10:20, @10:20)");
        }
        String startText = m.group(2);
        double start = startText == null ? 0 : startText.equals("~") ? Double.NEGATIVE_INFINITY : Double.parseDouble(startText);
        double end = m.group(3) == null ? Double.POSITIVE_INFINITY : Double.parseDouble(m.group(3));
        // a number of 309 digits parses as Infinity: an end nobody meant, refused rather than taken as "none"
        if ((startText != null && !startText.equals("~") && Double.isInfinite(start))
                || (m.group(3) != null && Double.isInfinite(end))) {
            throw new IllegalArgumentException("'" + text + "': a number too large for a range");
        }
        if (start > end) {
            throw new IllegalArgumentException("'" + text + "': the start of a range must not be above its end");
        }
        return new Range(start, end, m.group(1) != null);
    }

    public boolean alerts(double value) {
        boolean outside = value < start || value > end;
        return inside != outside;
    }

    /** The {@code n} of a plain "alert above n" range (start 0 or ~): the threshold the SOP's lines name. */
    public OptionalDouble ceiling() {
        return !inside && (start == 0 || start == Double.NEGATIVE_INFINITY) && end != Double.POSITIVE_INFINITY
                ? OptionalDouble.of(end) : OptionalDouble.empty();
    }

    /** The {@code n} of a plain "alert below n" range ({@code n:}). */
    public OptionalDouble floor() {
        return !inside && end == Double.POSITIVE_INFINITY && start != Double.NEGATIVE_INFINITY
                ? OptionalDouble.of(start) : OptionalDouble.empty();
    }

    /** When a value alerts, in words: "above 100", "below 95%", "between 10 and 20". */
    public String describe(String unit) {
        if (inside) {
            if (end == Double.POSITIVE_INFINITY) {
                return start == Double.NEGATIVE_INFINITY ? "always" : "at or above " + number(start) + unit;
            }
            return start == Double.NEGATIVE_INFINITY ? "at or below " + number(end) + unit
                    : "between " + number(start) + unit + " and " + number(end) + unit;
        }
        // no measure of ours is negative: "10" (outside 0..10) alerts above 10
        boolean noFloor = start == 0 || start == Double.NEGATIVE_INFINITY;
        if (end == Double.POSITIVE_INFINITY) {
            return noFloor ? (start == 0 ? "below 0" + unit : "never") : "below " + number(start) + unit;
        }
        return noFloor ? "above " + number(end) + unit
                : "outside " + number(start) + unit + ".." + number(end) + unit;
    }

    /** The range in the guidelines' syntax, as perfdata carries it. */
    @Override
    public String toString() {
        String prefix = inside ? "@" : "";
        String from = start == Double.NEGATIVE_INFINITY ? "~" : number(start);
        if (end == Double.POSITIVE_INFINITY) {
            return prefix + from + ":";
        }
        return prefix + (start == 0 ? "" : from + ":") + number(end);
    }

    static String number(double v) {
        if (Double.isInfinite(v)) {
            return v < 0 ? "~" : "infinity";
        }
        return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }
}
