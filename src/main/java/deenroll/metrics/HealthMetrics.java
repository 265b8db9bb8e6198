package deenroll.metrics;

import deenroll.health.HealthNumbers;
import deenroll.health.HealthReport;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The health check's numbers as metrics, under names of their own
 * ({@code deenroll_health_*}): node_exporter rejects the same series from two
 * files, and the run writes {@code deenroll_stuck_leads}.
 */
public final class HealthMetrics {

    /** The health check counts memory in MB of 2^20 bytes (PeakMemory); Prometheus in bytes. */
    static final double MIB = 1024 * 1024;

    private HealthMetrics() {
    }

    /** {@code now}: when the check ran, for the pause's age. */
    public static MetricSnapshots of(HealthReport report, Instant now) {
        List<MetricSnapshot> metrics = new ArrayList<>();
        metrics.add(RunMetrics.gauge("deenroll_health_status",
                "Result of the last health check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN", report.level().exitCode()));
        report.numbers().ifPresent(n -> numbers(metrics, n, now));
        return new MetricSnapshots(metrics);
    }

    private static void numbers(List<MetricSnapshot> metrics, HealthNumbers n, Instant now) {
        metrics.add(RunMetrics.gauge("deenroll_health_stuck_leads", "Stuck leads seen by the last health check", n.stuckLeads()));
        n.successRatePercent().ifPresent(v -> metrics.add(RunMetrics.gauge("deenroll_health_success_rate_24h_percent",
                "Share of the last 24h's finished runs that did not fail", v)));
        metrics.add(RunMetrics.gauge("deenroll_health_failed_runs_24h", "Failed runs in the last 24h, all clients", n.failedRuns()));
        n.hoursSinceSuccessMax().ifPresent(v -> metrics.add(RunMetrics.gauge("deenroll_health_hours_since_success_max",
                "Hours since the last success of the active client that waited longest", v)));
        n.averageSeconds().ifPresent(v -> metrics.add(RunMetrics.gauge("deenroll_health_average_run_seconds_24h",
                "Average wall time of an invocation in the last 24h", v)));
        n.peakMemoryMb().ifPresent(v -> metrics.add(RunMetrics.gauge("deenroll_health_peak_memory_24h_bytes",
                "Highest peak resident memory of a run in the last 24h", v * MIB)));
        // 0 rather than absent when not paused: the Pushgateway keeps a series the health check stops sending
        metrics.add(RunMetrics.gauge("deenroll_health_paused_seconds",
                "How long de-enrollment had been paused (deenroll pause) when the health check ran; 0 when it was not",
                n.pausedSeconds(now)));
    }
}
