package deenroll.metrics;

import deenroll.engine.ClientRun;
import deenroll.engine.Invocation;
import deenroll.engine.RunStatus;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;

/**
 * The metrics of one run, after Prometheus' advice for batch jobs: when it last
 * succeeded (moved only by a success), when it last completed whatever its
 * result, how long it took, what it did, and the records processed as a
 * counter that each run adds to what the output already held.
 */
public final class RunMetrics {

    public static final String LAST_SUCCESS = "deenroll_last_success_timestamp_seconds";
    /** The counter's sample name in the text format and in the Pushgateway's API (the family is {@code deenroll_leads_de_enrolled}). */
    static final String DE_ENROLLED_TOTAL = "deenroll_leads_de_enrolled_total";
    private static final String LAST_SUCCESS_HELP = "Unix time of the last run that processed every client (exit 0)";

    private RunMetrics() {
    }

    /**
     * {@code succeeded}: every client was processed (status success, not paused);
     * only then does {@value #LAST_SUCCESS} move. {@code previous}: what the
     * output holds, carried forward.
     */
    public static MetricSnapshots of(Invocation inv, int exitCode, OptionalInt stuckLeads, Instant finished,
                                     boolean succeeded, Published previous) {
        List<MetricSnapshot> metrics = completion(exitCode, finished, succeeded, previous);
        metrics.add(gauge("deenroll_last_run_duration_seconds", "Wall time of the last run", inv.durationMs() / 1000.0));
        Map<String, Double> totals = new TreeMap<>(previous.deEnrolledTotal());
        GaugeSnapshot.Builder lastRun = GaugeSnapshot.builder().name("deenroll_last_run_leads_de_enrolled")
                .help("Leads de-enrolled by the last run, by outcome");
        for (Map.Entry<String, Integer> e : inv.totals().outcomes().entrySet()) {
            totals.merge(e.getKey(), e.getValue().doubleValue(), Double::sum);
            lastRun.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
                    .labels(Labels.of("outcome", e.getKey())).value(e.getValue()).build());
        }
        metrics.add(lastRun.build());
        metrics.add(deEnrolledTotal(totals));
        GaugeSnapshot.Builder status = GaugeSnapshot.builder().name("deenroll_run_status")
                .help("Result of each client's run in the last invocation: 0 success, 1 partial, 2 failed");
        for (ClientRun c : inv.clients()) {
            status.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
                    .labels(Labels.of("client_id", c.clientId().toString(), "client", c.clientName()))
                    .value(statusValue(c.status())).build());
        }
        metrics.add(status.build());
        stuckLeads.ifPresent(n -> metrics.add(gauge("deenroll_stuck_leads",
                "Leads past their last message for more than 30 minutes and still enrolled, after the run", n)));
        return new MetricSnapshots(metrics);
    }

    /** A run that ended before it had a result (database unreachable, not migrated): it completed, and failed. */
    public static MetricSnapshots ofRunWithoutResult(int exitCode, Instant finished, Published previous) {
        List<MetricSnapshot> metrics = completion(exitCode, finished, false, previous);
        if (!previous.deEnrolledTotal().isEmpty()) {
            metrics.add(deEnrolledTotal(previous.deEnrolledTotal()));
        }
        return new MetricSnapshots(metrics);
    }

    private static List<MetricSnapshot> completion(int exitCode, Instant finished, boolean succeeded, Published previous) {
        List<MetricSnapshot> metrics = new ArrayList<>();
        double now = finished.toEpochMilli() / 1000.0;
        if (succeeded) {
            metrics.add(gauge(LAST_SUCCESS, LAST_SUCCESS_HELP, now));
        } else {
            previous.lastSuccess().ifPresent(t -> metrics.add(gauge(LAST_SUCCESS, LAST_SUCCESS_HELP, t)));
        }
        metrics.add(gauge("deenroll_last_run_timestamp_seconds", "Unix time the last run completed, whatever its result", now));
        metrics.add(gauge("deenroll_last_run_exit_code",
                "Exit code of the last run: 0 done, 1 a client failed, 3 partial (budget ran out), 4 database unreachable or not migrated",
                exitCode));
        return metrics;
    }

    private static CounterSnapshot deEnrolledTotal(Map<String, Double> totals) {
        CounterSnapshot.Builder counter = CounterSnapshot.builder().name("deenroll_leads_de_enrolled")
                .help("Leads de-enrolled, by outcome, added up over the runs this output has seen");
        totals.forEach((outcome, total) -> counter.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                .labels(Labels.of("outcome", outcome)).value(total).build()));
        return counter.build();
    }

    static int statusValue(RunStatus status) {
        return switch (status) {
            case SUCCESS -> 0;
            case PARTIAL, RUNNING -> 1;
            case FAILED -> 2;
        };
    }

    static GaugeSnapshot gauge(String name, String help, double value) {
        return GaugeSnapshot.builder().name(name).help(help)
                .dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(value).build()).build();
    }
}
