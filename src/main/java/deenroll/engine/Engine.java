package deenroll.engine;

import deenroll.alert.Alert;
import deenroll.alert.AlertSink;
import deenroll.alert.Severity;
import deenroll.db.Database;
import deenroll.db.DbErrors;
import deenroll.db.schema.tables.records.DeEnrollmentRunsRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * One invocation (DESIGN §4): close abandoned runs, then each client in
 * isolation: a run row, batches while the budget lasts, and the run closed as
 * success, partial or failed. One client's failure never stops the next.
 * The batches themselves run inside PostgreSQL, a time slice per call
 * ({@link RunSlices}); between calls the engine checks its budget and stop
 * requests, and at the end it reports what the run rows say.
 */
public final class Engine {

    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
    /** Alert conditions per client: they hold until a later run of that client clears them. */
    private static final String RUN_FAILED = "run-failed:";
    private static final String LEAD_ERRORS = "lead-errors:";

    private final Runs runs;
    private final RunSlices slices;
    private final AlertSink alerts;
    private final Clock clock;
    private final StopSignal stop;
    private final RunLocks locks;

    public Engine(Runs runs, RunSlices slices, RunLocks locks, AlertSink alerts, Clock clock, StopSignal stop) {
        this.runs = runs;
        this.slices = slices;
        this.locks = locks;
        this.alerts = alerts;
        this.clock = clock;
        this.stop = stop;
    }

    /** The engine on one database; close the database after the engine's last run. */
    public static Engine on(Database db, AlertSink alerts, Clock clock, StopSignal stop) {
        Runs runs = new Runs(db.dsl());
        return new Engine(runs, new RunSlices(db.dsl(), runs.host()), new RunLocks(db.dataSource()), alerts, clock, stop);
    }

    public Invocation run(RunRequest request, List<Client> toRun) {
        Instant started = clock.instant();
        UUID invocationId = UUID.randomUUID();
        if (request.dryRun()) {
            List<ClientRun> predicted = toRun.stream().map(this::dryRun).toList();
            return new Invocation(invocationId, request.runType(), true, predicted, List.of(), List.of(),
                    Duration.between(started, clock.instant()).toMillis());
        }
        List<AbandonedRun> abandoned = closeAbandoned();
        // in the order the work leaves them in: a client another invocation is on goes last (RunSlices)
        List<Client> clients = new ArrayList<>(toRun);
        List<UUID> runIds = new ArrayList<>(clients.stream().map(c -> UUID.randomUUID()).toList());
        Map<UUID, String> unrecorded = new HashMap<>();
        int reached;
        try {
            reached = work(invocationId, request, clients, runIds, started.plus(request.budget()), unrecorded);
        } finally {
            locks.close();
        }

        Map<UUID, DeEnrollmentRunsRecord> rows = runs.rows(runIds.subList(0, reached));
        List<ClientRun> done = new ArrayList<>();
        List<String> cleared = new ArrayList<>();
        for (int i = 0; i < reached; i++) {
            DeEnrollmentRunsRecord row = rows.get(runIds.get(i));
            Client client = clients.get(i);
            ClientRun run = row != null ? Runs.clientRun(client, row)
                    : new ClientRun(client.id(), client.name(), runIds.get(i), RunStatus.FAILED, Counts.ZERO, 0, 0,
                            unrecorded.getOrDefault(runIds.get(i), "the run row is missing"));
            done.add(run);
            report(client, run, cleared);
        }
        List<Client> left = clients.subList(reached, clients.size());
        List<Invocation.ClientSkipped> notReached = new ArrayList<>();
        if (!left.isEmpty()) {
            Set<UUID> waiting = runs.withEligible(left.stream().map(Client::id).toList());
            left.forEach(c -> notReached.add(new Invocation.ClientSkipped(c.id(), c.name(), waiting.contains(c.id()))));
            LOG.warn("{}: {} client(s) not started this time; they go first next time",
                    stop.requested() ? "stop requested (SIGTERM)" : "budget of " + request.budget().toMillis() + " ms spent",
                    left.size());
        }
        alerts.resolve(cleared);
        return new Invocation(invocationId, request.runType(), false, done, notReached, abandoned,
                Duration.between(started, clock.instant()).toMillis());
    }

    /**
     * Calls slices until every client is done, the budget is spent or a stop is
     * requested (the first call always happens: an invocation whose budget is
     * spent before any work, by a tiny budget or a slow connect, must still make
     * progress). Closes the run cut short, if any. Returns how many clients,
     * from the first, got a run.
     */
    private int work(UUID invocationId, RunRequest request, List<Client> clients, List<UUID> runIds, Instant deadline,
                     Map<UUID, String> unrecorded) {
        RunSlices.Position at = RunSlices.Position.START;
        boolean first = true;
        while (at.client() < clients.size()) {
            if (!first && (stop.requested() || !clock.instant().isBefore(deadline))) {
                break;
            }
            first = false;
            try {
                // before every call, not once: a lock session cut meanwhile is replaced
                locks.hold(invocationId);
                at = slices.next(invocationId, clients, runIds, request, at, Duration.between(clock.instant(), deadline));
            } catch (RuntimeException e) {
                // retries spent, or not transient: the client in flight fails, the next ones still run
                int failed = firstOpen(runIds, at.client());
                fail(invocationId, request, clients.get(failed), runIds.get(failed), DbErrors.describe(e), unrecorded);
                at = at.nextClient(failed + 1);
            }
        }
        if (at.cursor() == null) {
            return at.client();
        }
        // stopped inside a client's walk: partial if it still has work, else it is simply done
        Client cut = clients.get(at.client());
        UUID runId = runIds.get(at.client());
        try {
            boolean workLeft = runs.withEligible(List.of(cut.id())).contains(cut.id());
            runs.finish(runId, workLeft ? RunStatus.PARTIAL : RunStatus.SUCCESS, null);
        } catch (RuntimeException e) {
            fail(invocationId, request, cut, runId, DbErrors.describe(e), unrecorded);
        }
        return at.client() + 1;
    }

    /**
     * The first client, from {@code from}, whose run is not closed: the one a failed call was working on (or,
     * when that call had moved clients to the end of the list before failing, the first of those it moved).
     */
    private int firstOpen(List<UUID> runIds, int from) {
        try {
            Map<UUID, DeEnrollmentRunsRecord> rows = runs.rows(runIds.subList(from, runIds.size()));
            for (int i = from; i < runIds.size(); i++) {
                DeEnrollmentRunsRecord row = rows.get(runIds.get(i));
                if (row == null || RunStatus.of(row.getStatus()) == RunStatus.RUNNING) {
                    return i;
                }
            }
        } catch (RuntimeException e) {
            LOG.debug("cannot read the run rows back ({}); the failure goes to the client the call started with",
                    e.getMessage());
        }
        return from;
    }

    private void fail(UUID invocationId, RunRequest request, Client client, UUID runId, String error,
                      Map<UUID, String> unrecorded) {
        try {
            runs.ensureStarted(runId, invocationId, client.id(), request);
            runs.finish(runId, RunStatus.FAILED, error);
        } catch (RuntimeException closeError) {
            unrecorded.put(runId, error);
            LOG.error("could not record the failure of run {} (a later invocation closes it as abandoned): {}",
                    runId, DbErrors.describe(closeError));
        }
    }

    /** Logs a client's run and raises or clears its alert conditions ({@code cleared}: sent as resolved at the end). */
    private void report(Client client, ClientRun run, List<String> cleared) {
        Counts counts = run.counts();
        if (run.status() == RunStatus.FAILED) {
            LOG.error("client {} ({}): run {} failed: {}", client.name(), client.id(), run.runId(), run.error());
            Map<String, Object> alertDetails = clientDetails(client, run.runId(), counts, run.error());
            alertDetails.put(Alert.NEXT_STEP, "fix the cause named in the error, then re-run this client by hand:"
                    + " deenroll run --client-id=" + client.id() + "; its leads wait safely until then");
            alerts.send(new Alert(Severity.CRITICAL, RUN_FAILED + client.id(),
                    "De-enrollment failed for client " + client.name(), alertDetails));
            return;
        }
        LOG.info("client {} ({}): run {} {} — {} de-enrolled {} in {} batch(es), {} ms", client.name(), client.id(),
                run.runId(), run.status().sql(), counts.deEnrolled(), counts.outcomes(), run.batches(), run.durationMs());
        cleared.add(RUN_FAILED + client.id());
        if (counts.failed() > 0) {
            Map<String, Object> alertDetails = clientDetails(client, run.runId(), counts, run.error());
            alertDetails.put(Alert.NEXT_STEP, "see why: SELECT lead_id, error_message FROM de_enrollment_lead_log"
                    + " WHERE run_id = '" + run.runId() + "' AND action = 'error'; the leads stay enrolled and are retried next run");
            alerts.send(new Alert(Severity.WARNING, LEAD_ERRORS + client.id(), "Client " + client.name() + ": "
                    + counts.failed() + " lead(s) could not be de-enrolled", alertDetails));
        } else {
            cleared.add(LEAD_ERRORS + client.id());
        }
    }

    /** Looks up the one client of a manual run. */
    public Optional<Client> client(UUID id) {
        return runs.client(id);
    }

    public List<Client> activeClients() {
        return runs.activeClients();
    }

    private List<AbandonedRun> closeAbandoned() {
        List<AbandonedRun> closed = runs.closeAbandoned();
        for (AbandonedRun run : closed) {
            LOG.warn("closed abandoned run {} of client {} (started {}, last heartbeat {})",
                    run.runId(), run.clientId(), run.runAt(), run.lastHeartbeat());
            alerts.send(new Alert(Severity.WARNING, "abandoned-run:" + run.runId(),
                    "De-enrollment run " + run.runId() + " crashed and was closed as failed (abandoned)",
                    Map.of("runId", run.runId().toString(), "clientId", run.clientId().toString(),
                            "runAt", run.runAt().toString(), "lastHeartbeat", run.lastHeartbeat().toString(),
                            Alert.NEXT_STEP, "the process was killed or lost its database connection: check the host's"
                                    + " logs (OOM killer, timeouts); no batch is half done, and this run continued the work")));
        }
        return closed;
    }

    private ClientRun dryRun(Client client) {
        Map<String, Integer> byOutcome = runs.eligibleByOutcome(client.id());
        int n = byOutcome.values().stream().mapToInt(Integer::intValue).sum();
        LOG.info("dry run: client {} ({}) has {} lead(s) to de-enroll", client.name(), client.id(), n);
        return new ClientRun(client.id(), client.name(), null, RunStatus.SUCCESS,
                new Counts(n, n, 0, 0, byOutcome), 0, 0, null);
    }

    private static Map<String, Object> clientDetails(Client client, UUID runId, Counts counts, String error) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("clientId", client.id().toString());
        details.put("clientName", client.name());
        details.put("runId", runId.toString());
        details.put("leadsDeEnrolled", counts.deEnrolled());
        details.put("leadsFailed", counts.failed());
        if (error != null) {
            details.put("error", error);
        }
        return details;
    }
}
