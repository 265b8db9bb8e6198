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

/**
 * The metrics of one run, after Prometheus' advice for batch jobs: when it last
 * succeeded (only set by a successful run), how long it took, what it did.
 */
public final class RunMetrics {

    public static final String LAST_SUCCESS = "deenroll_last_success_timestamp_seconds";
    static final String LAST_SUCCESS_HELP = "Unix time of the last run that processed every client (exit 0)";

    private RunMetrics() {
    }

    /** {@code succeeded}: every client was processed (status success, not paused); only then does it carry {@value #LAST_SUCCESS}. */
    public static MetricSnapshots of(Invocation inv, int exitCode, OptionalInt stuckLeads, Instant finished,
                                     boolean succeeded) {
        List<MetricSnapshot> metrics = new ArrayList<>();
        double now = finished.toEpochMilli() / 1000.0;
        if (succeeded) {
            metrics.add(gauge(LAST_SUCCESS, LAST_SUCCESS_HELP, now));
        }
        metrics.add(gauge("deenroll_last_run_timestamp_seconds", "Unix time the last run finished, whatever its result", now));
        metrics.add(gauge("deenroll_last_run_duration_seconds", "Wall time of the last run", inv.durationMs() / 1000.0));
        metrics.add(gauge("deenroll_last_run_exit_code",
                "Exit code of the last run: 0 done, 1 a client failed, 3 partial (budget ran out)", exitCode));
        CounterSnapshot.Builder deEnrolled = CounterSnapshot.builder().name("deenroll_leads_de_enrolled")
                .help("Leads de-enrolled by the last run, by outcome (reset by every run: read the value, not its rate)");
        for (Map.Entry<String, Integer> e : inv.totals().outcomes().entrySet()) {
            deEnrolled.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                    .labels(Labels.of("outcome", e.getKey())).value(e.getValue()).build());
        }
        metrics.add(deEnrolled.build());
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

    private static int statusValue(RunStatus status) {
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
