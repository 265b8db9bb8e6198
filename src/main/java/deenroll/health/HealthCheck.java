package deenroll.health;

import deenroll.control.Pause;
import deenroll.control.Pauses;
import deenroll.db.schema.tables.records.DeEnrollmentHealthRecord;
import deenroll.engine.AbandonedRun;
import deenroll.engine.Runs;
import org.jooq.DSLContext;
import org.jooq.Record;
import org.jooq.impl.DSL;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import static deenroll.db.schema.Tables.DE_ENROLLMENT_HEALTH;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_RUNS;

/**
 * Evaluates the health rules of the operating procedure (DESIGN §6) over the
 * de_enrollment_health view, the run history, the stuck leads and the pause.
 */
public final class HealthCheck {

    static final String NO_RUNS = "no_runs";
    static final String HOURS_SINCE_SUCCESS = "hours_since_success";

    private final DSLContext dsl;
    private final Thresholds limits;

    public HealthCheck(DSLContext dsl, Thresholds limits) {
        this.dsl = dsl;
        this.limits = limits;
    }

    public HealthReport evaluate() {
        OffsetDateTime now = dsl.fetchValue(DSL.currentOffsetDateTime());
        List<Finding> findings = new ArrayList<>();
        Map<String, Object> metrics = new LinkedHashMap<>();
        Optional<Pause> pause = new Pauses(dsl).current();
        metrics.put("paused", pause.map(Pause::json).orElse(null));

        // a run whose process died is closed here too, so the hourly check reports it even between runs
        List<AbandonedRun> abandoned = new Runs(dsl).closeAbandoned();
        metrics.put("abandonedRunsClosed", abandoned.size());
        if (!abandoned.isEmpty()) {
            findings.add(new Finding(Level.WARNING, "abandoned_runs", abandoned.size()
                    + " run(s) left 'running' by a process that died, closed as failed (abandoned): "
                    + abandoned.stream().map(a -> a.runId().toString()).toList()));
        }

        OffsetDateTime lastRun = dsl.select(DSL.max(DE_ENROLLMENT_RUNS.RUN_AT)).from(DE_ENROLLMENT_RUNS).fetchOne(0, OffsetDateTime.class);
        metrics.put("lastRunAt", lastRun == null ? null : lastRun.toString());
        // a pause explains a CRITICAL that stopped runs cause, unless it held already when the pause began
        Optional<OffsetDateTime> pausedAt = pause.map(Pause::pausedAt);
        List<Finding> explainedByPause = new ArrayList<>();
        Finding lastRunFinding = lastRunFinding(now, lastRun);
        findings.add(lastRunFinding);
        if (lastRunFinding.level() == Level.CRITICAL
                && pausedAt.filter(at -> lastRunFinding(at, lastRun).level() != Level.CRITICAL).isPresent()) {
            explainedByPause.add(lastRunFinding);
        }

        var clients = dsl.selectFrom(DE_ENROLLMENT_HEALTH).orderBy(DE_ENROLLMENT_HEALTH.CLIENT_NAME).fetch();
        long success = 0;
        long partial = 0;
        long failed = 0;
        List<Finding> clientProblems = new ArrayList<>();
        for (var c : clients) {
            success += c.getSuccessfulRuns_24h();
            partial += c.getPartialRuns_24h();
            failed += c.getFailedRuns_24h();
            Optional<Finding> overdue = clientSuccessFinding(now, c);
            overdue.ifPresent(clientProblems::add);
            if (overdue.isPresent() && pausedAt.filter(at -> clientSuccessFinding(at, c).isEmpty()).isPresent()) {
                explainedByPause.add(overdue.get());
            }
            if (c.getFailedRuns_24h() > limits.maxFailedRuns()) {
                clientProblems.add(new Finding(Level.WARNING, "failed_runs",
                        "Client " + c.getClientName() + " has " + c.getFailedRuns_24h() + " failed runs in the last 24h"));
            }
        }
        if (clientProblems.isEmpty()) {
            findings.add(new Finding(Level.OK, "clients",
                    "All clients processed successfully in last 24h (" + clients.size() + " active)"));
        }
        findings.addAll(clientProblems);
        metrics.put("activeClients", clients.size());
        metrics.put("hoursSinceSuccessMax", clients.stream().map(DeEnrollmentHealthRecord::getHoursSinceSuccess)
                .filter(h -> h != null).map(h -> Math.round(h.doubleValue() * 100) / 100.0)
                .max(Double::compare).orElse(null));
        metrics.put("runs24h", Map.of("success", success, "partial", partial, "failed", failed));

        long finished = success + partial + failed;
        if (finished > 0) {
            // partial runs did their work within the budget; only failures count against the rate
            double rate = 100.0 * (finished - failed) / finished;
            metrics.put("successRate24hPercent", Math.round(rate * 10) / 10.0);
            findings.add(rate < limits.minSuccessRatePercent()
                    ? new Finding(Level.WARNING, "success_rate", String.format(Locale.ROOT,
                            "Success rate in the last 24h is %.1f%% (%d of %d runs failed), below %.0f%%",
                            rate, failed, finished, limits.minSuccessRatePercent()))
                    : new Finding(Level.OK, "success_rate", String.format(Locale.ROOT,
                            "Success rate in the last 24h is %.1f%% (%d runs)", rate, finished)));
        }

        findings.add(stuckFinding(metrics));
        averageDurationFinding(now, metrics).ifPresent(findings::add);

        Integer peak = clients.stream().map(r -> r.getMaxPeakMemoryMb()).filter(v -> v != null)
                .max(Integer::compare).orElse(null);
        metrics.put("peakMemoryMb24h", peak);
        if (peak != null && peak > limits.maxPeakMemoryMb()) {
            findings.add(new Finding(Level.WARNING, "memory", "Peak memory of a run in the last 24h was "
                    + peak + " MB, above " + limits.maxPeakMemoryMb() + " MB"));
        }
        return new HealthReport(pause.map(p -> new PauseRule(limits).apply(p, now, clients.size(), findings,
                explainedByPause)).orElse(findings), metrics);
    }

    private Finding lastRunFinding(OffsetDateTime now, OffsetDateTime lastRun) {
        if (lastRun == null) {
            return new Finding(Level.CRITICAL, NO_RUNS, "No de-enrollment run has ever been recorded");
        }
        Duration age = Duration.between(lastRun, now);
        if (age.compareTo(limits.noRunWindow()) > 0) {
            return new Finding(Level.CRITICAL, NO_RUNS, "No de-enrollment run in the last "
                    + hours(limits.noRunWindow()) + " (last run " + minutes(age) + " ago)");
        }
        return new Finding(Level.OK, NO_RUNS, "Last run " + minutes(age) + " ago");
    }

    /** The client's "hours since last success" rule as it stands at {@code at}. */
    private Optional<Finding> clientSuccessFinding(OffsetDateTime at, DeEnrollmentHealthRecord c) {
        if (c.getLastSuccess() == null) {
            // a client added since the last successful cycles is not overdue yet
            double ageHours = Duration.between(c.getClientCreatedAt(), at).toMinutes() / 60.0;
            if (ageHours <= limits.maxHoursSinceSuccess()) {
                return Optional.empty();
            }
            return Optional.of(new Finding(Level.CRITICAL, HOURS_SINCE_SUCCESS,
                    "Client " + c.getClientName() + " has never run successfully"));
        }
        double hours = Duration.between(c.getLastSuccess(), at).toSeconds() / 3600.0;
        if (hours > limits.maxHoursSinceSuccess()) {
            return Optional.of(new Finding(Level.CRITICAL, HOURS_SINCE_SUCCESS,
                    "Client " + c.getClientName() + " hasn't run successfully in " + (long) Math.floor(hours) + " hours"));
        }
        return Optional.empty();
    }

    /** Eligible leads idle longer than the grace period (DESIGN §3 "stuck"). */
    public int stuckLeads() {
        return dsl.fetchCount(StuckLeads.idleLongerThan(limits.stuckGrace()));
    }

    private Finding stuckFinding(Map<String, Object> metrics) {
        int stuck = stuckLeads();
        metrics.put("stuckLeads", stuck);
        String what = stuck + " stuck lead(s) (finished their sequence more than "
                + limits.stuckGrace().toMinutes() + " min ago, still enrolled)";
        if (stuck > limits.stuckCritical()) {
            return new Finding(Level.CRITICAL, "stuck_leads", what + ", above " + limits.stuckCritical());
        }
        if (stuck > limits.stuckWarning()) {
            return new Finding(Level.WARNING, "stuck_leads", what + ", above " + limits.stuckWarning());
        }
        return new Finding(Level.OK, "stuck_leads", stuck == 0 ? "No stuck leads" : what);
    }

    /** Average wall time of an invocation (all its clients) over the last 24 hours. */
    private Optional<Finding> averageDurationFinding(OffsetDateTime now, Map<String, Object> metrics) {
        var end = DSL.max(DSL.coalesce(DE_ENROLLMENT_RUNS.FINISHED_AT, DE_ENROLLMENT_RUNS.HEARTBEAT_AT));
        var start = DSL.min(DE_ENROLLMENT_RUNS.RUN_AT);
        var perInvocation = dsl.select(DSL.field("extract(epoch from {0} - {1})", Double.class, end, start).as("seconds"))
                .from(DE_ENROLLMENT_RUNS)
                .where(DE_ENROLLMENT_RUNS.RUN_AT.gt(now.minusHours(24)))
                .and(DE_ENROLLMENT_RUNS.STATUS.ne("running"))
                .groupBy(DE_ENROLLMENT_RUNS.INVOCATION_ID)
                .asTable("i");
        Record r = dsl.select(DSL.avg(perInvocation.field("seconds", Double.class))).from(perInvocation).fetchOne();
        if (r == null || r.get(0) == null) {
            return Optional.empty();
        }
        double seconds = r.get(0, Double.class);
        metrics.put("averageInvocationSeconds24h", Math.round(seconds * 10) / 10.0);
        if (seconds > limits.maxAverageDuration().toSeconds()) {
            return Optional.of(new Finding(Level.WARNING, "duration", String.format(Locale.ROOT,
                    "Average processing time in the last 24h is %.1f min, above %d min",
                    seconds / 60, limits.maxAverageDuration().toMinutes())));
        }
        return Optional.of(new Finding(Level.OK, "duration", String.format(Locale.ROOT,
                "Average processing time in the last 24h is %.1f s", seconds)));
    }

    static String hours(Duration d) {
        return d.toMinutes() % 60 == 0 ? d.toHours() + " hours" : d.toMinutes() + " minutes";
    }

    static String minutes(Duration d) {
        long m = d.toMinutes();
        return m < 120 ? m + " min" : (m / 60) + " h";
    }
}
