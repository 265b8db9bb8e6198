package deenroll.engine;

import deenroll.db.TransientErrors;
import org.jooq.DSLContext;
import org.jooq.Record;
import org.jooq.impl.DSL;
import org.jooq.impl.SQLDataType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Runs the invocation's batches inside PostgreSQL (de_enrollment_run_clients,
 * 0024): one CALL works through the clients, batch after batch, one
 * transaction each, for up to a time slice, so neither a batch nor a client
 * costs a round trip or client-side work. Between calls the engine checks its
 * budget and stop requests; the slice bounds how long a stop waits.
 * A client another invocation is working on is moved to the end of the list
 * (0026): the call returns the list in the order it ends up in, and
 * {@link #next} reorders the caller's lists to match.
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
            + " ?::integer, ?::integer, ?::uuid, ?::integer, ?::uuid)";

    /**
     * Where the walk over the clients stands: the client to work on (0-based),
     * where its walk resumes, and how many clients at the end of the list were
     * moved there because another invocation was working on them.
     */
    record Position(int client, BatchCursor cursor, int deferred) {
        static final Position START = new Position(0, null, 0);

        /** The next client, from the top of its walk. */
        Position nextClient(int client) {
            return new Position(client, null, deferred);
        }
    }

    private final DSLContext dsl;
    private final String host;

    RunSlices(DSLContext dsl, String host) {
        this.dsl = dsl;
        this.host = host;
    }

    /**
     * Works for up to {@code slice} (at least one batch, at most {@link #MAX_SLICE}) from {@code from}.
     * {@code clients} and {@code runIds} must be modifiable: they are put in the order the call left them in.
     */
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
                        request.runType().sql(), request.budgetMs(), host,
                        (int) ProcessHandle.current().pid(), PeakMemory.megabytes(), request.batchSize(), (int) sliceMs,
                        from.client() + 1, from.deferred(),
                        after == null ? null : after.campaignId(),
                        after == null ? null : after.position(),
                        after == null ? null : after.leadId())
                .fetchSingle();
        reorder(clients, runIds, r.get("io_client_ids", UUID[].class), r.get("io_run_ids", UUID[].class));
        UUID campaign = r.get("io_after_campaign", UUID.class);
        BatchCursor cursor = campaign == null ? null
                : new BatchCursor(campaign, r.get("io_after_position", Integer.class), r.get("io_after_lead", UUID.class));
        return new Position(r.get("io_position", Integer.class) - 1, cursor, r.get("io_deferred", Integer.class));
    }

    /** Puts the clients and their run ids in the order the call returned (the same ones, maybe moved). */
    private static void reorder(List<Client> clients, List<UUID> runIds, UUID[] clientOrder, UUID[] runOrder) {
        if (clientOrder.length != clients.size() || runOrder.length != runIds.size()) {
            throw new IllegalStateException("de_enrollment_run_clients returned " + clientOrder.length + " client(s) for "
                    + clients.size());
        }
        Map<UUID, Client> byRun = new HashMap<>();
        for (int i = 0; i < clients.size(); i++) {
            byRun.put(runIds.get(i), clients.get(i));
        }
        List<Client> reordered = new ArrayList<>(clients.size());
        for (int i = 0; i < runOrder.length; i++) {
            Client client = byRun.remove(runOrder[i]);
            if (client == null || !client.id().equals(clientOrder[i])) {
                throw new IllegalStateException("de_enrollment_run_clients returned run " + runOrder[i]
                        + " for client " + clientOrder[i] + ", which this invocation did not give it");
            }
            reordered.add(client);
        }
        for (int i = 0; i < runOrder.length; i++) {
            clients.set(i, reordered.get(i));
            runIds.set(i, runOrder[i]);
        }
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
