package deenroll.engine;

import deenroll.alert.Alert;
import deenroll.alert.AlertSink;
import deenroll.alert.Severity;
import deenroll.db.Database;
import deenroll.db.DbErrors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * One invocation (DESIGN §4): close abandoned runs, then each client in
 * isolation: a run row, batches while the budget lasts, and the run closed as
 * success, partial or failed. One client's failure never stops the next.
 */
public final class Engine {

    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
    /** Alert conditions per client: they hold until a later run of that client clears them. */
    private static final String RUN_FAILED = "run-failed:";
    private static final String LEAD_ERRORS = "lead-errors:";

    private final Runs runs;
    private final Batches batches;
    private final AlertSink alerts;
    private final Clock clock;
    private final StopSignal stop;
    private final RunLocks locks;

    public Engine(Runs runs, Batches batches, RunLocks locks, AlertSink alerts, Clock clock, StopSignal stop) {
        this.runs = runs;
        this.batches = batches;
        this.locks = locks;
        this.alerts = alerts;
        this.clock = clock;
        this.stop = stop;
    }

    /** The engine on one database; close the database after the engine's last run. */
    public static Engine on(Database db, AlertSink alerts, Clock clock, StopSignal stop) {
        return new Engine(new Runs(db.dsl()), new Batches(db.dsl()), new RunLocks(db.dataSource()), alerts, clock, stop);
    }

    public Invocation run(RunRequest request, List<Client> clients) {
        Instant started = clock.instant();
        Instant deadline = started.plus(request.budget());
        UUID invocationId = UUID.randomUUID();
        List<AbandonedRun> abandoned = request.dryRun() ? List.of() : closeAbandoned();

        List<ClientRun> done = new ArrayList<>();
        List<Invocation.ClientSkipped> notReached = new ArrayList<>();
        try {
            for (Client client : clients) {
                // the first client always starts: an invocation whose budget is spent
                // before any work (a tiny budget, a slow connect) must still make progress
                boolean outOfTime = stop.requested() || (!done.isEmpty() && !clock.instant().isBefore(deadline));
                if (!request.dryRun() && outOfTime) {
                    notReached.add(new Invocation.ClientSkipped(client.id(), client.name(), runs.hasEligible(client.id())));
                    continue;
                }
                done.add(request.dryRun() ? dryRun(client) : runClient(client, invocationId, request, deadline));
            }
            if (!notReached.isEmpty()) {
                LOG.warn("{}: {} client(s) not started this time; they go first next time",
                        stop.requested() ? "stop requested (SIGTERM)" : "budget of " + request.budget().toMillis() + " ms spent",
                        notReached.size());
            }
        } finally {
            locks.close();
        }
        return new Invocation(invocationId, request.runType(), request.dryRun(), done, notReached, abandoned,
                Duration.between(started, clock.instant()).toMillis());
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

    private ClientRun runClient(Client client, UUID invocationId, RunRequest request, Instant deadline) {
        Instant started = clock.instant();
        UUID runId = UUID.randomUUID();
        Counts counts = Counts.ZERO;
        int batchCount = 0;
        try {
            locks.hold(runId);
            runs.start(runId, invocationId, client.id(), request.runType(), request.budget());
            LOG.info("client {} ({}): run {} started", client.name(), client.id(), runId);
            RunStatus status = RunStatus.SUCCESS;
            BatchCursor cursor = null;
            while (true) {
                Batch batch = batches.next(runId, client.id(), request.batchSize(), cursor);
                batchCount++;
                counts = counts.plus(batch.counts());
                cursor = batch.last();
                LOG.debug("client {}: batch {} de-enrolled {} of {} locked", client.name(), batchCount,
                        batch.counts().deEnrolled(), batch.counts().evaluated());
                // fewer than asked: the walk reached the end of the client's campaigns
                if (batch.counts().evaluated() < request.batchSize()) {
                    break;
                }
                if (stop.requested() || !clock.instant().isBefore(deadline)) {
                    status = runs.hasEligible(client.id()) ? RunStatus.PARTIAL : RunStatus.SUCCESS;
                    break;
                }
            }
            long ms = Duration.between(started, clock.instant()).toMillis();
            String details = counts.failed() > 0
                    ? counts.failed() + " lead(s) failed and were left enrolled; see de_enrollment_lead_log action 'error' for run " + runId
                    : null;
            runs.finish(runId, status, ms, details);
            locks.release(runId);
            LOG.info("client {}: {} — {} de-enrolled {} in {} batch(es), {} ms", client.name(), status.sql(),
                    counts.deEnrolled(), counts.outcomes(), batchCount, ms);
            alerts.resolve(RUN_FAILED + client.id());
            if (counts.failed() > 0) {
                Map<String, Object> alertDetails = clientDetails(client, runId, counts, details);
                alertDetails.put(Alert.NEXT_STEP, "see why: SELECT lead_id, error_message FROM de_enrollment_lead_log"
                        + " WHERE run_id = '" + runId + "' AND action = 'error'; the leads stay enrolled and are retried next run");
                alerts.send(new Alert(Severity.WARNING, LEAD_ERRORS + client.id(), "Client " + client.name() + ": "
                        + counts.failed() + " lead(s) could not be de-enrolled", alertDetails));
            } else {
                alerts.resolve(LEAD_ERRORS + client.id());
            }
            return new ClientRun(client.id(), client.name(), runId, status, counts, batchCount, ms, details);
        } catch (RuntimeException e) {
            long ms = Duration.between(started, clock.instant()).toMillis();
            String error = DbErrors.describe(e);
            LOG.error("client {} ({}): run {} failed: {}", client.name(), client.id(), runId, error);
            try {
                runs.finish(runId, RunStatus.FAILED, ms, error);
                locks.release(runId);
            } catch (RuntimeException closeError) {
                LOG.error("could not record the failure of run {} (a later invocation closes it as abandoned): {}",
                        runId, DbErrors.describe(closeError));
            }
            Map<String, Object> alertDetails = clientDetails(client, runId, counts, error);
            alertDetails.put(Alert.NEXT_STEP, "fix the cause named in the error, then re-run this client by hand:"
                    + " deenroll run --client-id=" + client.id() + "; its leads wait safely until then");
            alerts.send(new Alert(Severity.CRITICAL, RUN_FAILED + client.id(),
                    "De-enrollment failed for client " + client.name(), alertDetails));
            return new ClientRun(client.id(), client.name(), runId, RunStatus.FAILED, counts, batchCount, ms, error);
        }
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
