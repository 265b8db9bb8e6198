package deenroll.cli;

import deenroll.db.DbErrors;
import deenroll.engine.Invocation;
import deenroll.engine.InvocationStatus;
import deenroll.metrics.MetricsOutputs;
import deenroll.metrics.RunMetrics;
import deenroll.ping.DeadManSwitch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.function.IntSupplier;

/**
 * What a run tells the monitoring around it: the dead-man switch's start and
 * end pings, and the metrics. A dry run tells nothing: it is an operator's
 * preview, not the scheduled job. The end is told once, however the run ends.
 */
final class RunMonitoring {

    static final String JOB = "deenroll";
    private static final Logger LOG = LoggerFactory.getLogger(RunMonitoring.class);

    private final UUID invocationId;
    private final Optional<DeadManSwitch> ping;
    private final MetricsOutputs metrics;
    private final Clock clock;
    private boolean told;

    /** {@code invocationId}: the one the engine will run under, named by the pings before it exists. */
    RunMonitoring(UUID invocationId, Optional<DeadManSwitch> ping, MetricsOutputs metrics, Clock clock) {
        this.invocationId = invocationId;
        this.ping = ping;
        this.metrics = metrics;
        this.clock = clock;
    }

    void started() {
        ping.ifPresent(p -> p.start(invocationId));
    }

    /** The run finished with a result; {@code stuckLeads} is asked only when metrics are published. */
    void finished(Invocation invocation, int exitCode, IntSupplier stuckLeads) {
        if (told) {
            return;
        }
        told = true;
        if (metrics.any()) {
            // a paused run exits 0 too, but de-enrolled nothing: it is no success
            boolean succeeded = invocation.status() == InvocationStatus.SUCCESS;
            OptionalInt stuck = stuck(stuckLeads);
            Instant now = clock.instant();
            metrics.publishRun(JOB, succeeded, previous -> RunMetrics.of(invocation, exitCode, stuck, now, succeeded, previous));
        }
        ping.ifPresent(p -> p.finish(invocationId, exitCode, String.join("\n", RunReport.lines(invocation))));
    }

    private static OptionalInt stuck(IntSupplier stuckLeads) {
        try {
            return OptionalInt.of(stuckLeads.getAsInt());
        } catch (RuntimeException e) {
            LOG.warn("stuck leads not counted for the metrics: {}", DbErrors.describe(e));
            return OptionalInt.empty();
        }
    }

    /** The run ended before it had a result (database unreachable, not migrated, a crash). */
    void failed(int exitCode, String message) {
        if (told) {
            return;
        }
        told = true;
        if (metrics.any()) {
            Instant now = clock.instant();
            metrics.publishRun(JOB, false, previous -> RunMetrics.ofRunWithoutResult(exitCode, now, previous));
        }
        ping.ifPresent(p -> p.finish(invocationId, exitCode, String.join("\n", List.of("deenroll run failed before processing:", message))));
    }
}
