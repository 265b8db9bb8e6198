package deenroll.engine;

import deenroll.alert.Alert;
import deenroll.alert.AlertSink;
import deenroll.alert.Severity;
import deenroll.db.Database;
import deenroll.db.DbErrors;
import deenroll.db.TransientErrors;
import deenroll.db.schema.tables.records.DeEnrollmentInvocationRunsRecord;
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
import java.util.Set;
import java.util.UUID;

/**
 * One invocation (DESIGN §4): close abandoned runs, record the invocation in
 * PostgreSQL (its clients in order, its budget, its lease), keep its heartbeat
 * moving, and call the batch loop, which works inside PostgreSQL a slice at a
 * time; its run rows and the invocation's row say where the work stands (0028).
 * The engine owns only what belongs to the process: the time budget, SIGTERM,
 * retries (Retries), and at the end the report and the alerts, both read
 * from what the rows say. One client's failure never stops the next.
 */
public final class Engine {

    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
    /** The longest a call runs batches before handing back; also the longest a stop request waits for. */
    static final Duration MAX_SLICE = Duration.ofSeconds(1);
    /** How long past its budget an invocation may keep trying to close itself and read its report. */
    static final Duration CLOSING_GRACE = Duration.ofSeconds(10);
    /** Alert conditions per client: they hold until a later run of that client clears them. */
    private static final String RUN_FAILED = "run-failed:";
    private static final String LEAD_ERRORS = "lead-errors:";

    private final Runs runs;
    private final Invocations invocations;
    private final Retries retries;
    private final AlertSink alerts;
    private final Clock clock;
    private final StopSignal stop;
    private final ProgressListener progress;

    private Engine(Runs runs, Invocations invocations, AlertSink alerts, Clock clock, StopSignal stop,
                   ProgressListener progress) {
        this.runs = runs;
        this.invocations = invocations;
        this.retries = new Retries(clock, stop);
        this.alerts = alerts;
        this.clock = clock;
        this.stop = stop;
        this.progress = progress;
    }

    /** The engine on one database; close the database after the engine's last run. */
    public static Engine on(Database db, AlertSink alerts, Clock clock, StopSignal stop) {
        return new Engine(new Runs(db.dsl()), new Invocations(db.dsl()), alerts, clock, stop, ProgressListener.NONE);
    }

    /** The same engine, telling {@code listener} where the work stands after each slice. */
    public Engine reporting(ProgressListener listener) {
        return new Engine(runs, invocations, alerts, clock, stop, listener);
    }

    public Invocation run(RunRequest request) {
        return run(UUID.randomUUID(), request);
    }

    /** {@code invocationId}: chosen by the caller when it must name the invocation before it starts (the dead-man ping's run id). */
    public Invocation run(UUID invocationId, RunRequest request) {
        Instant started = clock.instant();
        Instant deadline = started.plus(request.budget());
        if (request.dryRun()) {
            List<ClientRun> predicted = runs.clientsToRun(request.clientId()).stream().map(this::dryRun).toList();
            return new Invocation(invocationId, request.runType(), true, StopReason.DONE, predicted, List.of(), List.of(),
                    millisSince(started));
        }
        List<AbandonedRun> abandoned = retries.call("closing abandoned runs", deadline, this::closeAbandoned);
        if (!retries.call("starting the invocation", deadline, () -> invocations.begin(invocationId, request))) {
            return new Invocation(invocationId, request.runType(), false, StopReason.PAUSED, List.of(), List.of(),
                    abandoned, millisSince(started));
        }
        StopReason reason;
        try (Heartbeat heartbeat = Heartbeat.start(invocations, invocationId, request.lease())) {
            reason = work(invocationId, started, deadline, heartbeat);
            if (reason != StopReason.ABANDONED) {
                StopReason stopped = reason;
                boolean finished = retries.call("closing the invocation", deadline.plus(CLOSING_GRACE),
                        () -> invocations.finish(invocationId, stopped));
                reason = finished ? reason : StopReason.ABANDONED;
            }
        }
        if (reason == StopReason.ABANDONED) {
            LOG.error("invocation {} was closed as abandoned by another process while this one still ran (its heartbeat"
                    + " was older than its lease of {} s); its runs are failed, no batch is half done, and the next run"
                    + " continues the work", invocationId, request.lease().toSeconds());
        }
        StopReason stopReason = reason;
        return retries.call("reading the invocation's runs", deadline.plus(CLOSING_GRACE),
                () -> report(invocationId, request, stopReason, abandoned, started));
    }

    /**
     * Calls the batch loop until every client is done, the budget is spent, a
     * stop is requested, a pause is in force or the invocation was closed
     * elsewhere. The first call always happens: an invocation whose budget is
     * spent before any work (a tiny budget, a slow connect) must still make progress.
     */
    private StopReason work(UUID id, Instant started, Instant deadline, Heartbeat heartbeat) {
        for (boolean first = true; ; first = false) {
            if (!first && stop.requested()) {
                return StopReason.SIGTERM;
            }
            if (!first && !clock.instant().isBefore(deadline)) {
                return StopReason.BUDGET;
            }
            if (heartbeat.closedElsewhere()) {
                return StopReason.ABANDONED;
            }
            Invocations.SliceState state;
            try {
                state = retries.call("batches of invocation " + id, deadline, () -> invocations.work(id, slice(deadline)),
                        () -> invocations.where(id));
            } catch (RuntimeException e) {
                if (TransientErrors.classify(e).orElse(null) == TransientErrors.Kind.OUTAGE) {
                    // the database stayed away until the budget ran out: the run in flight is closed when it is back
                    return stop.requested() ? StopReason.SIGTERM : StopReason.BUDGET;
                }
                // conflicts spent, or not retryable: the client in flight fails, the next ones still run
                String error = DbErrors.describe(e);
                retries.call("recording the failure of the client in flight", deadline.plus(CLOSING_GRACE),
                        () -> invocations.failInFlight(id, error));
                continue;
            }
            tellProgress(id, started, deadline);
            switch (state) {
                case DONE:
                    return StopReason.DONE;
                case PAUSED:
                    LOG.warn("de-enrollment was paused (deenroll status shows by whom and why): stopping after the batch"
                            + " in flight; the run cut short is closed partial");
                    return StopReason.PAUSED;
                case CLOSED:
                    return StopReason.ABANDONED;
                default:
                    break;
            }
        }
    }

    /** A progress display never changes a run: whatever it throws is only logged. */
    private void tellProgress(UUID id, Instant started, Instant deadline) {
        try {
            progress.sliceDone(() -> {
                Instant now = clock.instant();
                return invocations.progress(id, Duration.between(started, now), Duration.between(now, deadline));
            });
        } catch (RuntimeException e) {
            LOG.debug("progress of invocation {} not shown", id, e);
        }
    }

    private Duration slice(Instant deadline) {
        Duration left = Duration.between(clock.instant(), deadline);
        return left.compareTo(MAX_SLICE) < 0 ? left : MAX_SLICE;
    }

    /** The invocation as its rows say: runs in the order they were done, then the clients not started. */
    private Invocation report(UUID id, RunRequest request, StopReason reason, List<AbandonedRun> abandoned,
                              Instant started) {
        List<ClientRun> done = new ArrayList<>();
        List<Client> notStarted = new ArrayList<>();
        List<String> cleared = new ArrayList<>();
        int idle = 0;
        for (DeEnrollmentInvocationRunsRecord r : runs.ofInvocation(id)) {
            Client client = new Client(r.getClientId(), r.getClientName() == null ? "(deleted client)" : r.getClientName());
            if (r.getRunId() == null) {
                notStarted.add(client);
            } else {
                ClientRun clientRun = Runs.clientRun(client, r);
                done.add(clientRun);
                idle += report(client, clientRun, cleared) ? 1 : 0;
            }
        }
        if (idle > 0) {
            LOG.info("{} client(s) had nothing to de-enroll: each has its run, success with 0 leads"
                    + " (LOG_LEVEL=debug lists them)", idle);
        }
        List<Invocation.ClientNotStarted> waiting = new ArrayList<>();
        if (!notStarted.isEmpty()) {
            Set<UUID> withWork = runs.withEligible(notStarted.stream().map(Client::id).toList());
            notStarted.forEach(c -> waiting.add(new Invocation.ClientNotStarted(c.id(), c.name(), withWork.contains(c.id()))));
            LOG.warn("{}: {} client(s) not started this time; they go first next time", switch (reason) {
                case SIGTERM -> "stop requested (SIGTERM)";
                case PAUSED -> "paused";
                case ABANDONED -> "closed by another process";
                default -> "budget of " + request.budget().toMillis() + " ms spent";
            }, notStarted.size());
        }
        alerts.resolve(cleared);
        return new Invocation(id, request.runType(), false, reason, done, waiting, abandoned, millisSince(started));
    }

    private long millisSince(Instant started) {
        return Duration.between(started, clock.instant()).toMillis();
    }

    /**
     * Logs a client's run and raises or clears its alert conditions ({@code cleared}: sent as resolved at the end).
     * A client with nothing to do is logged at debug only, and counted (true): with thousands of clients, their
     * lines would bury the few that say something, and writing them was a tenth of an idle pass.
     */
    private boolean report(Client client, ClientRun run, List<String> cleared) {
        Counts counts = run.counts();
        if (run.status() == RunStatus.FAILED) {
            LOG.error("client {} ({}): run {} failed: {}", client.name(), client.id(), run.runId(), run.error());
            Map<String, Object> alertDetails = clientDetails(client, run.runId(), counts, run.error());
            alertDetails.put(Alert.NEXT_STEP, "fix the cause named in the error, then re-run this client by hand:"
                    + " deenroll run --client-id=" + client.id() + "; its leads wait safely until then");
            alerts.send(new Alert(Severity.CRITICAL, RUN_FAILED + client.id(),
                    "De-enrollment failed for client " + client.name() + " (" + client.id() + ")", alertDetails));
            return false;
        }
        boolean idle = counts.evaluated() == 0 && run.status() == RunStatus.SUCCESS;
        if (idle) {
            LOG.debug("client {} ({}): run {} success, nothing to de-enroll", client.name(), client.id(), run.runId());
        } else {
            LOG.info("client {} ({}): run {} {} — {} de-enrolled {} in {} batch(es), {} ms", client.name(), client.id(),
                    run.runId(), run.status().sql(), counts.deEnrolled(), counts.outcomes(), run.batches(),
                    run.durationMs());
        }
        cleared.add(RUN_FAILED + client.id());
        if (counts.failed() > 0) {
            Map<String, Object> alertDetails = clientDetails(client, run.runId(), counts, run.error());
            alertDetails.put(Alert.NEXT_STEP, "see why: SELECT lead_id, error_message FROM de_enrollment_lead_log"
                    + " WHERE run_id = '" + run.runId() + "' AND action = 'error'; the leads stay enrolled and are retried next run");
            alerts.send(new Alert(Severity.WARNING, LEAD_ERRORS + client.id(), "Client " + client.name() + " (" + client.id()
                    + "): " + counts.failed() + " lead(s) could not be de-enrolled", alertDetails));
        } else {
            cleared.add(LEAD_ERRORS + client.id());
        }
        return idle;
    }

    /** The one client of a manual run, if this database has it. */
    public Optional<Client> client(UUID id) {
        return runs.clientsToRun(Optional.of(id)).stream().findFirst();
    }

    private List<AbandonedRun> closeAbandoned() {
        List<AbandonedRun> closed = runs.closeAbandoned();
        for (AbandonedRun run : closed) {
            LOG.warn("closed abandoned run {} of client {} (process {} pid {}, started {}, last heartbeat {})",
                    run.runId(), run.clientId(), run.host(), run.pid(), run.runAt(), run.lastHeartbeat());
            alerts.send(new Alert(Severity.WARNING, "abandoned-run:" + run.runId(),
                    "De-enrollment run " + run.runId() + " crashed and was closed as failed (abandoned)",
                    Map.of("runId", run.runId().toString(), "clientId", run.clientId().toString(),
                            "process", run.host() + " pid " + run.pid(),
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
