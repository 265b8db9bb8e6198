package deenroll.engine;

import deenroll.db.TransientErrors;
import org.jooq.DSLContext;
import org.jooq.Record;
import org.jooq.impl.DSL;
import org.jooq.impl.SQLDataType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Runs the invocation's batches inside PostgreSQL (de_enrollment_run_clients,
 * 0024): one CALL works through the clients, batch after batch, one
 * transaction each, for up to a time slice, so neither a batch nor a client
 * costs a round trip or client-side work. Between calls the engine checks its
 * budget and stop requests; the slice bounds how long a stop waits.
 * A failed call is retried with exponential backoff and jitter when the error
 * is transient. That is safe: every committed batch left nothing eligible to
 * redo, runs closed meanwhile are skipped, and a retry from an older cursor
 * only walks past leads already done.
 */
final class RunSlices {

    private static final Logger LOG = LoggerFactory.getLogger(RunSlices.class);
    /** The longest a call runs batches before handing back; also the longest a stop request waits for. */
    static final Duration MAX_SLICE = Duration.ofSeconds(1);
    static final int MAX_ATTEMPTS = 5;
    private static final long BASE_BACKOFF_MS = 100;
    private static final String CALL = "CALL de_enrollment_run_clients(?::uuid, ?::uuid[], ?::uuid[], ?, ?, ?, ?, ?, ?, ?,"
            + " ?::integer, ?::uuid, ?::integer, ?::uuid)";

    /** Where the walk over the clients stands: the client to work on (0-based) and where its walk resumes. */
    record Position(int client, BatchCursor cursor) {
        static final Position START = new Position(0, null);
    }

    private final DSLContext dsl;
    private final String host;

    RunSlices(DSLContext dsl, String host) {
        this.dsl = dsl;
        this.host = host;
    }

    /** Works for up to {@code slice} (at least one batch, at most {@link #MAX_SLICE}) from {@code from}. */
    Position next(UUID invocationId, List<Client> clients, List<UUID> runIds, RunRequest request, Position from,
                  Duration slice) {
        for (int attempt = 1; ; attempt++) {
            try {
                return once(invocationId, clients, runIds, request, from, slice);
            } catch (RuntimeException e) {
                if (attempt >= MAX_ATTEMPTS || !TransientErrors.isTransient(e)) {
                    throw e;
                }
                long backoff = BASE_BACKOFF_MS << (attempt - 1);
                long sleep = backoff + ThreadLocalRandom.current().nextLong(backoff);
                LOG.warn("batches of client {} failed transiently (attempt {}/{}), retrying in {} ms: {}",
                        clients.get(from.client()).name(), attempt, MAX_ATTEMPTS, sleep, e.getMessage());
                sleep(sleep);
            }
        }
    }

    private Position once(UUID invocationId, List<Client> clients, List<UUID> runIds, RunRequest request,
                          Position from, Duration slice) {
        long sliceMs = Math.max(0, Math.min(slice.toMillis(), MAX_SLICE.toMillis()));
        BatchCursor after = from.cursor();
        Record r = dsl.resultQuery(CALL, invocationId,
                        DSL.val(clients.stream().map(Client::id).toArray(UUID[]::new), SQLDataType.UUID.array()),
                        DSL.val(runIds.toArray(UUID[]::new), SQLDataType.UUID.array()),
                        request.runType().sql(), (int) Math.min(Integer.MAX_VALUE, request.budget().toMillis()), host,
                        (int) ProcessHandle.current().pid(), PeakMemory.megabytes(), request.batchSize(), (int) sliceMs,
                        from.client() + 1,
                        after == null ? null : after.campaignId(),
                        after == null ? null : after.position(),
                        after == null ? null : after.leadId())
                .fetchSingle();
        UUID campaign = r.get("io_after_campaign", UUID.class);
        BatchCursor cursor = campaign == null ? null
                : new BatchCursor(campaign, r.get("io_after_position", Integer.class), r.get("io_after_lead", UUID.class));
        return new Position(r.get("io_position", Integer.class) - 1, cursor);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting to retry a batch", e);
        }
    }
}
