package deenroll.engine;

import java.util.Map;
import java.util.TreeMap;

/** Lead counts of a batch, a run or an invocation; they only ever add up. */
public record Counts(int evaluated, int deEnrolled, int skipped, int failed, Map<String, Integer> byOutcome) {

    public static final Counts ZERO = new Counts(0, 0, 0, 0, Map.of());

    public Counts {
        byOutcome = Map.copyOf(byOutcome);
    }

    public Counts plus(Counts other) {
        Map<String, Integer> outcomes = new TreeMap<>(byOutcome);
        other.byOutcome.forEach((k, v) -> outcomes.merge(k, v, Integer::sum));
        return new Counts(evaluated + other.evaluated, deEnrolled + other.deEnrolled,
                skipped + other.skipped, failed + other.failed, outcomes);
    }

    /** The outcome counts in a fixed order, zeros included, for output. */
    public Map<String, Integer> outcomes() {
        Map<String, Integer> all = new TreeMap<>(Map.of("completed", 0, "booked", 0, "opted_out", 0));
        all.putAll(byOutcome);
        return all;
    }
}
