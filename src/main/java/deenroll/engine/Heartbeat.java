package deenroll.engine;

import deenroll.db.DbErrors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Keeps an invocation alive: a thread of its own moves the invocation's
 * heartbeat every lease/6, each beat one autocommitted statement on whatever
 * pooled connection it gets, so a slow batch never delays a beat and nothing
 * depends on a session (db-scheduler's heartbeat does the same). After a failed
 * beat (the server restarting, say) it tries again every second, so the beat
 * is back within a second of the database. Other processes take the
 * invocation for dead only when no beat landed for a whole lease.
 */
final class Heartbeat implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Heartbeat.class);
    /** Beats per lease: five can be lost before the lease runs out. */
    static final int BEATS_PER_LEASE = 6;
    private static final Duration RETRY = Duration.ofSeconds(1);

    private final Invocations invocations;
    private final UUID invocationId;
    private final long intervalMs;
    private final ScheduledExecutorService timer;
    private final AtomicBoolean closedElsewhere = new AtomicBoolean();
    private boolean failing;

    private Heartbeat(Invocations invocations, UUID invocationId, Duration lease) {
        this.invocations = invocations;
        this.invocationId = invocationId;
        this.intervalMs = Math.max(1, lease.toMillis() / BEATS_PER_LEASE);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "deenroll-heartbeat");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts beating for an invocation whose first heartbeat was written when it began. */
    static Heartbeat start(Invocations invocations, UUID invocationId, Duration lease) {
        Heartbeat heartbeat = new Heartbeat(invocations, invocationId, lease);
        heartbeat.schedule(heartbeat.intervalMs);
        return heartbeat;
    }

    /** True once a beat found the invocation closed by another process. */
    boolean closedElsewhere() {
        return closedElsewhere.get();
    }

    private void schedule(long delayMs) {
        if (!timer.isShutdown()) {
            timer.schedule(this::beat, delayMs, TimeUnit.MILLISECONDS);
        }
    }

    private void beat() {
        try {
            String status = invocations.beat(invocationId);
            if ("abandoned".equals(status)) {
                closedElsewhere.set(true);
                LOG.error("invocation {} was closed by another process: its heartbeat was older than its lease",
                        invocationId);
                return;
            }
            if (!"running".equals(status)) {
                return; // finished: a beat that crossed the invocation's end
            }
            if (failing) {
                LOG.info("heartbeat of invocation {} is back", invocationId);
                failing = false;
            }
            schedule(intervalMs);
        } catch (RuntimeException e) {
            if (!failing) {
                LOG.warn("heartbeat of invocation {} failed, retrying every {} s: {}", invocationId, RETRY.toSeconds(),
                        DbErrors.describe(e));
                failing = true;
            }
            schedule(Math.min(intervalMs, RETRY.toMillis()));
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            // a beat in flight finishes before the invocation is closed, so it cannot outlive it
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
