package deenroll.health;

import deenroll.control.Pause;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * DESIGN §6 "paused / paused longer than 24 h". A pause in force is a WARNING,
 * a CRITICAL once older than the limit (somebody forgot to resume). Runs stop
 * while it lasts, so the CRITICALs that follow from that alone are its effect,
 * not a fault of their own: they are left out, and the pause's line counts them.
 * Only those that did not hold yet when the pause began (HealthCheck decides):
 * a pause never hides an outage that started before it.
 */
final class PauseRule {

    static final String RULE = "paused";

    private final Thresholds limits;

    PauseRule(Thresholds limits) {
        this.limits = limits;
    }

    /** The pause's finding first, then {@code findings} without those of {@code explained} (the pause's effect). */
    List<Finding> apply(Pause pause, OffsetDateTime now, int activeClients, List<Finding> findings,
                        List<Finding> explained) {
        Set<Finding> leftOutFindings = Collections.newSetFromMap(new IdentityHashMap<>());
        leftOutFindings.addAll(explained);
        List<Finding> kept = new ArrayList<>();
        boolean noRecentRun = false;
        int overdueClients = 0;
        for (Finding f : findings) {
            if (leftOutFindings.contains(f)) {
                noRecentRun |= f.rule().equals(HealthCheck.NO_RUNS);
                overdueClients += f.rule().equals(HealthCheck.HOURS_SINCE_SUCCESS) ? 1 : 0;
            } else {
                kept.add(f);
            }
        }
        kept.add(0, finding(pause, now, activeClients, noRecentRun, overdueClients));
        return kept;
    }

    private Finding finding(Pause pause, OffsetDateTime now, int activeClients, boolean noRecentRun, int overdueClients) {
        Duration age = pause.age(now);
        Level byAge = limits.level(Measure.PAUSED_HOURS, age.toSeconds() / 3600.0);
        boolean tooLong = byAge == Level.CRITICAL;
        List<String> leftOut = new ArrayList<>();
        if (noRecentRun) {
            Range noRun = limits.of(Measure.HOURS_SINCE_LAST_RUN).critical().orElseThrow();
            leftOut.add(HealthCheck.hoursText(noRun).map(window -> "no run in the last " + window)
                    .orElse("hours since the last run " + noRun.describe("")));
        }
        if (overdueClients > 0) {
            Range overdue = limits.of(Measure.HOURS_SINCE_SUCCESS).critical().orElseThrow();
            leftOut.add(overdueClients + " client(s) " + overdue.ceiling().stream()
                    .mapToObj(h -> "without a success in more than " + Range.number(h) + " h").findFirst()
                    .orElse("with hours since success " + overdue.describe("")));
        }
        Range maxPause = limits.of(Measure.PAUSED_HOURS).critical().orElse(null);
        String message = "⏸ De-enrollment paused "
                + (tooLong ? "for " + HealthCheck.minutes(age) + ", " + HealthCheck.hoursText(maxPause)
                        .map(window -> "longer than " + window).orElse(maxPause.describe(" h")) + ", " : "")
                + pause.since()
                + " — " + activeClients + " active client(s) waiting"
                + (leftOut.isEmpty() ? "" : "; not raised while paused: " + String.join(" and ", leftOut))
                + " (`deenroll resume` ends it)";
        return new Finding(tooLong ? Level.CRITICAL : Level.WARNING, RULE, message);
    }
}
