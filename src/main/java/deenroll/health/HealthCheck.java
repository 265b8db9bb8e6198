package deenroll.health;

import deenroll.control.Pause;
import deenroll.control.Pauses;
import deenroll.db.ReportReads;
import deenroll.db.schema.tables.records.DeEnrollmentHealthRecord;
import deenroll.engine.AbandonedRun;
import deenroll.engine.Runs;
import org.jooq.DSLContext;
import org.jooq.Record;
import org.jooq.impl.DSL;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;

import static deenroll.db.schema.Routines.deEnrollmentAbandonedRuns;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_HEALTH;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_RUNS;

/**
 * Evaluates the health rules of the operating procedure (DESIGN §6) over the
 * de_enrollment_health view, the run history, the stuck leads and the pause.
 */
public final class HealthCheck {

    static final String NO_RUNS = "no_runs";
    static final String ABANDONED_RUNS = "abandoned_runs";
    static final String HOURS_SINCE_SUCCESS = "hours_since_success";
    static final String FAILED_RUNS = "failed_runs";
    static final String FAILED_RUNS_PLATFORM = "failed_runs_platform";
    /** DESIGN §6 "leads that could not be de-enrolled (24 h) > 0": a WARNING, not a threshold. */
    static final String LEAD_ERRORS = "lead_errors";

    private final DSLContext dsl;
    private final Thresholds limits;

    public HealthCheck(DSLContext dsl, Thresholds limits) {
        this.dsl = dsl;
        this.limits = limits;
    }

    /** The rules, after closing the runs whose process died: the hourly check reports them even between runs. */
    public HealthReport evaluate() {
        List<AbandonedRun> abandoned = new Runs(dsl).closeAbandoned();
        return judge(abandoned.size(), abandoned.isEmpty() ? Optional.empty() : Optional.of(new Finding(Level.WARNING,
                ABANDONED_RUNS, abandoned.size() + " run(s) left 'running' by a process that died, closed as failed (abandoned): "
                        + abandoned.stream().map(a -> a.runId().toString()).toList())));
    }

    /**
     * The same rules without changing anything, for the read-only reports
     * ({@code report daily}): runs left by a dead process are counted, not closed.
     */
    public HealthReport assess() {
        int stale = dsl.fetchCount(deEnrollmentAbandonedRuns());
        return judge(0, stale == 0 ? Optional.empty() : Optional.of(new Finding(Level.WARNING, ABANDONED_RUNS, stale
                + " run(s) left 'running' by a process that died (the next `deenroll run` or `deenroll health-check`"
                + " closes them as failed)")));
    }

    private HealthReport judge(int abandonedClosed, Optional<Finding> abandoned) {
        return ReportReads.inOneTransaction(dsl, tx -> new HealthCheck(tx, limits).rules(abandonedClosed, abandoned));
    }

    private HealthReport rules(int abandonedClosed, Optional<Finding> abandoned) {
        OffsetDateTime now = dsl.fetchValue(DSL.currentOffsetDateTime());
        List<Finding> findings = new ArrayList<>();
        Optional<Pause> pause = new Pauses(dsl).current();
        abandoned.ifPresent(findings::add);

        OffsetDateTime lastRun = dsl.select(DSL.max(DE_ENROLLMENT_RUNS.RUN_AT)).from(DE_ENROLLMENT_RUNS).fetchOne(0, OffsetDateTime.class);
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
        long failedMax = 0;
        int clientsWithFailures = 0;
        List<Finding> clientProblems = new ArrayList<>();
        for (var c : clients) {
            success += c.getSuccessfulRuns_24h();
            partial += c.getPartialRuns_24h();
            failed += c.getFailedRuns_24h();
            failedMax = Math.max(failedMax, c.getFailedRuns_24h());
            clientsWithFailures += c.getFailedRuns_24h() > 0 ? 1 : 0;
            Optional<Finding> overdue = clientSuccessFinding(now, c);
            overdue.ifPresent(clientProblems::add);
            if (overdue.isPresent() && pausedAt.filter(at -> clientSuccessFinding(at, c).isEmpty()).isPresent()) {
                explainedByPause.add(overdue.get());
            }
            Level failedRuns = limits.level(Measure.FAILED_RUNS, c.getFailedRuns_24h());
            if (failedRuns != Level.OK) {
                ClientRef client = client(c);
                clientProblems.add(Finding.aboutClient(failedRuns, FAILED_RUNS, client, "has " + c.getFailedRuns_24h()
                                + " failed runs in the last 24h (this client alone, " + breach(Measure.FAILED_RUNS, failedRuns) + ")",
                        client.runCommand() + " once the error `deenroll report daily` shows is fixed"));
            }
        }
        for (LeadErrors.OfClient e : new LeadErrors(dsl).last24h()) {
            clientProblems.add(Finding.aboutClient(Level.WARNING, LEAD_ERRORS, e.client(), "has " + e.leads()
                            + " lead(s) that could not be de-enrolled in the last 24h (most frequent error: "
                            + (e.mostFrequentError() == null ? "none recorded" : e.mostFrequentError()) + ")",
                    "`deenroll verify` names the leads that keep failing; fix the cause, then " + e.client().runCommand()));
        }
        findings.addAll(clientProblems);
        findings.add(failedRunsFinding(clients.size(), failed, clientsWithFailures, clientProblems.isEmpty()));

        long finished = success + partial + failed;
        OptionalDouble successRate = OptionalDouble.empty();
        if (finished > 0) {
            // partial runs did their work within the budget; only failures count against the rate
            double rate = 100.0 * (finished - failed) / finished;
            successRate = OptionalDouble.of(Math.round(rate * 10) / 10.0);
            Level level = limits.level(Measure.SUCCESS_RATE, rate);
            findings.add(level != Level.OK
                    ? new Finding(level, "success_rate", String.format(Locale.ROOT,
                            "Success rate in the last 24h is %.1f%% (%d of %d runs failed), %s",
                            rate, failed, finished, breach(Measure.SUCCESS_RATE, level)))
                    : new Finding(Level.OK, "success_rate", String.format(Locale.ROOT,
                            "Success rate in the last 24h is %.1f%% (%d runs)", rate, finished)));
        }

        int stuck = stuckLeads();
        findings.add(stuckFinding(stuck));
        OptionalDouble averageSeconds = averageInvocationSeconds(now);
        averageDurationFinding(averageSeconds).ifPresent(findings::add);

        OptionalInt peak = clients.stream().map(DeEnrollmentHealthRecord::getMaxPeakMemoryMb).filter(v -> v != null)
                .mapToInt(Integer::intValue).max();
        Level memory = peak.isEmpty() ? Level.OK : limits.level(Measure.PEAK_MEMORY, peak.getAsInt());
        if (memory != Level.OK) {
            findings.add(new Finding(memory, "memory", "Peak memory of a run in the last 24h was "
                    + peak.getAsInt() + " MB, " + breach(Measure.PEAK_MEMORY, memory, " MB")));
        }
        HealthNumbers numbers = new HealthNumbers(pause, optional(pause.map(p -> roundHours(p.age(now)))), abandonedClosed,
                Optional.ofNullable(lastRun), optional(Optional.ofNullable(lastRun).map(at -> roundHours(Duration.between(at, now)))),
                clients.size(),
                clients.stream().map(DeEnrollmentHealthRecord::getHoursSinceSuccess).filter(h -> h != null)
                        .mapToDouble(h -> Math.round(h.doubleValue() * 100) / 100.0).max(),
                success, partial, failed, clients.isEmpty() ? OptionalLong.empty() : OptionalLong.of(failedMax),
                successRate, stuck, averageSeconds.isEmpty() ? averageSeconds
                        : OptionalDouble.of(Math.round(averageSeconds.getAsDouble() * 10) / 10.0),
                peak);
        return new HealthReport(pause.map(p -> new PauseRule(limits).apply(p, now, clients.size(), findings,
                explainedByPause)).orElse(findings), Optional.of(numbers));
    }

    private Finding lastRunFinding(OffsetDateTime now, OffsetDateTime lastRun) {
        if (lastRun == null) {
            return new Finding(Level.CRITICAL, NO_RUNS, "No de-enrollment run has ever been recorded");
        }
        Duration age = Duration.between(lastRun, now);
        Level level = limits.level(Measure.HOURS_SINCE_LAST_RUN, age.toSeconds() / 3600.0);
        if (level == Level.OK) {
            return new Finding(Level.OK, NO_RUNS, "Last run " + minutes(age) + " ago");
        }
        return new Finding(level, NO_RUNS, hoursText(limits.of(Measure.HOURS_SINCE_LAST_RUN).range(level).orElseThrow())
                .map(window -> "No de-enrollment run in the last " + window + " (last run " + minutes(age) + " ago)")
                .orElse("Last run " + minutes(age) + " ago, " + breach(Measure.HOURS_SINCE_LAST_RUN, level) + " hours"));
    }

    /**
     * The failed-runs rule applied to the whole platform: all clients' failures
     * together, judged by the same range as one client's. Its OK line is the
     * "all clients" line, and says only what holds: no failure at all, or how
     * many there were within the limit.
     */
    private Finding failedRunsFinding(int active, long failed, int clientsWithFailures, boolean noClientProblem) {
        Level level = limits.level(Measure.FAILED_RUNS, failed);
        String spread = clientsWithFailures + " of " + active + " active client(s)";
        if (level != Level.OK) {
            return new Finding(level, FAILED_RUNS_PLATFORM, failed + " failed runs in the last 24h across " + spread
                    + " (whole platform, " + breach(Measure.FAILED_RUNS, level) + ")",
                    Optional.empty(), Optional.of("deenroll report daily (the failed runs, client by client, and their errors)"));
        }
        if (failed == 0) {
            return new Finding(Level.OK, FAILED_RUNS_PLATFORM, noClientProblem
                    ? "All clients processed successfully in last 24h (" + active + " active)"
                    : "No failed runs in the last 24h (" + active + " active client(s))");
        }
        return new Finding(Level.OK, FAILED_RUNS_PLATFORM, failed + " failed run(s) in the last 24h across " + spread
                + ", within the failed-runs limit per client and for the whole platform ("
                + limits.of(Measure.FAILED_RUNS).warning().map(r -> r.describe("")).orElse("no warning range") + " alerts)");
    }

    /** The client's "hours since last success" rule as it stands at {@code at}. */
    private Optional<Finding> clientSuccessFinding(OffsetDateTime at, DeEnrollmentHealthRecord c) {
        if (c.getLastSuccess() == null) {
            // a client added since the last successful cycles is not overdue yet
            double ageHours = Duration.between(c.getClientCreatedAt(), at).toMinutes() / 60.0;
            Level level = limits.level(Measure.HOURS_SINCE_SUCCESS, ageHours);
            return level == Level.OK ? Optional.empty() : Optional.of(Finding.aboutClient(level, HOURS_SINCE_SUCCESS,
                    client(c), "has never run successfully", client(c).runCommand()));
        }
        double hours = Duration.between(c.getLastSuccess(), at).toSeconds() / 3600.0;
        Level level = limits.level(Measure.HOURS_SINCE_SUCCESS, hours);
        return level == Level.OK ? Optional.empty() : Optional.of(Finding.aboutClient(level, HOURS_SINCE_SUCCESS,
                client(c), "hasn't run successfully in " + (long) Math.floor(hours) + " hours", client(c).runCommand()));
    }

    private static ClientRef client(DeEnrollmentHealthRecord c) {
        return new ClientRef(c.getClientId(), c.getClientName());
    }

    /** Eligible leads idle longer than the grace period (DESIGN §3 "stuck"). */
    public int stuckLeads() {
        return ReportReads.inOneTransaction(dsl, tx -> tx.fetchCount(StuckLeads.idleLongerThan(limits.stuckGrace())));
    }

    private Finding stuckFinding(int stuck) {
        String what = stuck + " stuck lead(s) (finished their sequence more than "
                + limits.stuckGrace().toMinutes() + " min ago, still enrolled)";
        Level level = limits.level(Measure.STUCK_LEADS, stuck);
        if (level != Level.OK) {
            return new Finding(level, "stuck_leads", what + ", " + breach(Measure.STUCK_LEADS, level));
        }
        return new Finding(Level.OK, "stuck_leads", stuck == 0 ? "No stuck leads" : what);
    }

    /** Average wall time of an invocation (all its clients) over the last 24 hours; empty without a finished one. */
    private OptionalDouble averageInvocationSeconds(OffsetDateTime now) {
        var end = DSL.max(DSL.coalesce(DE_ENROLLMENT_RUNS.FINISHED_AT, DE_ENROLLMENT_RUNS.HEARTBEAT_AT));
        var start = DSL.min(DE_ENROLLMENT_RUNS.RUN_AT);
        var perInvocation = dsl.select(DSL.field("extract(epoch from {0} - {1})", Double.class, end, start).as("seconds"))
                .from(DE_ENROLLMENT_RUNS)
                .where(DE_ENROLLMENT_RUNS.RUN_AT.gt(now.minusHours(24)))
                .and(DE_ENROLLMENT_RUNS.STATUS.ne("running"))
                .groupBy(DE_ENROLLMENT_RUNS.INVOCATION_ID)
                .asTable("i");
        Record r = dsl.select(DSL.avg(perInvocation.field("seconds", Double.class))).from(perInvocation).fetchOne();
        return r == null || r.get(0) == null ? OptionalDouble.empty() : OptionalDouble.of(r.get(0, Double.class));
    }

    private Optional<Finding> averageDurationFinding(OptionalDouble average) {
        if (average.isEmpty()) {
            return Optional.empty();
        }
        double seconds = average.getAsDouble();
        Level level = limits.level(Measure.AVERAGE_DURATION, seconds);
        if (level != Level.OK) {
            return Optional.of(new Finding(level, "duration", String.format(Locale.ROOT,
                    "Average processing time in the last 24h is %.1f s, %s",
                    seconds, breach(Measure.AVERAGE_DURATION, level, " s"))));
        }
        return Optional.of(new Finding(Level.OK, "duration", String.format(Locale.ROOT,
                "Average processing time in the last 24h is %.1f s", seconds)));
    }

    /** The words of the range {@code measure} broke at {@code level}: "above 100", "below 95%". */
    private String breach(Measure measure, Level level) {
        return breach(measure, level, measure.unit());
    }

    private String breach(Measure measure, Level level, String unit) {
        return limits.of(measure).range(level).orElseThrow().describe(unit);
    }

    /** "2 hours" for a plain "above 2" range of hours, the SOP's wording; empty for any other range. */
    static Optional<String> hoursText(Range hours) {
        return hours.ceiling().stream().mapToObj(h -> hours(Duration.ofSeconds(Math.round(h * 3600)))).findFirst();
    }

    private static OptionalDouble optional(Optional<Double> value) {
        return value.map(OptionalDouble::of).orElseGet(OptionalDouble::empty);
    }

    static double roundHours(Duration d) {
        return Math.round(d.toSeconds() / 36.0) / 100.0;
    }

    static String hours(Duration d) {
        return d.toMinutes() % 60 == 0 ? d.toHours() + " hours" : d.toMinutes() + " minutes";
    }

    static String minutes(Duration d) {
        long m = d.toMinutes();
        return m < 120 ? m + " min" : (m / 60) + " h";
    }
}
