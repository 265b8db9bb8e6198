package deenroll.engine;

import deenroll.db.DbErrors;
import deenroll.db.TransientErrors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * How the engine retries a database call (TransientErrors): an outage is
 * waited out for as long as the invocation may still work (its deadline), each
 * wait logged; a conflict is tried {@link #CONFLICT_ATTEMPTS} times in all.
 * Waits grow exponentially with jitter, up to {@link #MAX_WAIT}. A stop request
 * ends the waiting. Anything else is thrown at once.
 * A call that makes progress between its conflicts (the batch loop commits
 * batch after batch) says so through its {@code progress}: conflicts count
 * afresh once the work has moved on, so one client's never count against the next.
 */
final class Retries {

    private static final Logger LOG = LoggerFactory.getLogger(Retries.class);
    static final int CONFLICT_ATTEMPTS = 5;
    private static final long BASE_WAIT_MS = 100;
    private static final Duration MAX_WAIT = Duration.ofSeconds(5);
    private static final long POLL_MS = 100;

    private final Clock clock;
    private final StopSignal stop;

    Retries(Clock clock, StopSignal stop) {
        this.clock = clock;
        this.stop = stop;
    }

    /** {@code action}, retried as above until {@code until}; throws the last error when it gives up. */
    <T> T call(String what, Instant until, Supplier<T> action) {
        return call(what, until, action, () -> null);
    }

    /**
     * As {@link #call(String, Instant, Supplier)}; {@code progress} says where
     * the work stands (null when unknown) and is asked after each conflict.
     */
    <T> T call(String what, Instant until, Supplier<T> action, Supplier<?> progress) {
        int outages = 0;
        int conflicts = 0;
        Object lastWhere = null;
        while (true) {
            try {
                return action.get();
            } catch (RuntimeException e) {
                TransientErrors.Kind kind = TransientErrors.classify(e).orElseThrow(() -> e);
                int attempt;
                if (kind == TransientErrors.Kind.OUTAGE) {
                    attempt = ++outages;
                } else {
                    Object where = where(progress);
                    conflicts = where != null && lastWhere != null && !where.equals(lastWhere) ? 1 : conflicts + 1;
                    lastWhere = where;
                    attempt = conflicts;
                }
                if (kind == TransientErrors.Kind.CONFLICT && attempt >= CONFLICT_ATTEMPTS) {
                    throw e;
                }
                long wait = backoffMs(attempt);
                Duration left = Duration.between(clock.instant(), until);
                if (stop.requested() || left.toMillis() <= wait) {
                    LOG.warn("{}: giving up after {} attempt(s), {}: {}", what, attempt,
                            stop.requested() ? "stop requested" : "the budget is spent", DbErrors.describe(e));
                    throw e;
                }
                LOG.warn("{} failed ({}, attempt {}{}): retrying in {} ms, {} s of the budget left: {}", what,
                        kind == TransientErrors.Kind.OUTAGE ? "database unreachable" : "conflict", attempt,
                        kind == TransientErrors.Kind.CONFLICT ? "/" + CONFLICT_ATTEMPTS : "", wait, left.toSeconds(),
                        DbErrors.describe(e));
                sleep(wait);
            }
        }
    }

    /** Where the work stands, or null when that cannot be read now (it then counts as no progress). */
    private static Object where(Supplier<?> progress) {
        try {
            return progress.get();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** Exponential from 100 ms, plus up to as much again of jitter, at most {@link #MAX_WAIT}. */
    private static long backoffMs(int attempt) {
        long base = BASE_WAIT_MS << Math.min(attempt - 1, 16);
        return Math.min(MAX_WAIT.toMillis(), base + ThreadLocalRandom.current().nextLong(base));
    }

    private void sleep(long ms) {
        long end = System.nanoTime() + ms * 1_000_000;
        try {
            for (long left = ms; left > 0 && !stop.requested(); left = (end - System.nanoTime()) / 1_000_000) {
                Thread.sleep(Math.min(left, POLL_MS));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting to retry", e);
        }
    }
}
