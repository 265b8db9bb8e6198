package deenroll.engine;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import deenroll.db.schema.tables.records.DeEnrollmentRunsRecord;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.OffsetDateTime;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import static deenroll.db.schema.Routines.deEnrollmentCloseAbandonedRuns;
import static deenroll.db.schema.Routines.deEnrollmentStartRun;
import static deenroll.db.schema.Tables.CLIENTS;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_ELIGIBLE_LEADS;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_FINISH_RUN;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_RUNS;

/** The run rows and the client list: the engine's bookkeeping in the database. */
public final class Runs {

    /** Streaming only: a run reads a small flat object per client, and ObjectMapper costs a cold start about 40 ms. */
    private static final JsonFactory JSON = new JsonFactory();
    private static final String HOST = hostName();

    private final DSLContext dsl;

    public Runs(DSLContext dsl) {
        this.dsl = dsl;
    }

    /**
     * Active clients, least recently run first: when the budget runs out before
     * every client had its turn, the next invocation starts with the ones left out.
     */
    public List<Client> activeClients() {
        var lastRun = DSL.field(DSL.select(DSL.max(DE_ENROLLMENT_RUNS.RUN_AT))
                .from(DE_ENROLLMENT_RUNS)
                .where(DE_ENROLLMENT_RUNS.CLIENT_ID.eq(CLIENTS.ID)));
        return dsl.select(CLIENTS.ID, CLIENTS.NAME, CLIENTS.IS_ACTIVE)
                .from(CLIENTS)
                .where(CLIENTS.IS_ACTIVE)
                .orderBy(lastRun.asc().nullsFirst(), CLIENTS.ID)
                .fetch(r -> new Client(r.value1(), r.value2(), r.value3()));
    }

    public Optional<Client> client(UUID id) {
        return dsl.select(CLIENTS.ID, CLIENTS.NAME, CLIENTS.IS_ACTIVE)
                .from(CLIENTS)
                .where(CLIENTS.ID.eq(id))
                .fetchOptional(r -> new Client(r.value1(), r.value2(), r.value3()));
    }

    /**
     * Makes sure the run row exists (de_enrollment_start_run, the one definition
     * of starting a run): de_enrollment_run_clients starts it in its first
     * batch's transaction, so a run that failed in that batch has none yet.
     */
    void ensureStarted(UUID runId, UUID invocationId, UUID clientId, RunRequest request) {
        deEnrollmentStartRun(dsl.configuration(), runId, invocationId, clientId, request.runType().sql(),
                request.budgetMs(), HOST, (int) ProcessHandle.current().pid());
    }

    /**
     * Closes a run the engine stopped, or one that failed outside PostgreSQL's
     * own handling, through de_enrollment_finish_run, the one definition of
     * closing. Its counts were added batch by batch, in the batches' own transactions.
     */
    void finish(UUID runId, RunStatus status, String errorDetails) {
        dsl.selectFrom(DE_ENROLLMENT_FINISH_RUN(runId, status.sql(), errorDetails, PeakMemory.megabytes())).fetch();
    }

    /** The run rows with these ids, by id. */
    Map<UUID, DeEnrollmentRunsRecord> rows(Collection<UUID> runIds) {
        return dsl.selectFrom(DE_ENROLLMENT_RUNS)
                .where(DE_ENROLLMENT_RUNS.ID.eq(DSL.any(runIds.toArray(UUID[]::new))))
                .fetchMap(DE_ENROLLMENT_RUNS.ID);
    }

    /** The run as the engine reports it: what its row says. */
    static ClientRun clientRun(Client client, DeEnrollmentRunsRecord r) {
        Counts counts = new Counts(r.getLeadsEvaluated(), r.getLeadsDeEnrolled(), r.getLeadsSkipped(),
                r.getLeadsFailed(), outcomes(r.getByOutcome() == null ? null : r.getByOutcome().data()));
        return new ClientRun(client.id(), client.name(), r.getId(), RunStatus.of(r.getStatus()), counts, r.getBatches(),
                r.getDurationMs() == null ? 0 : r.getDurationMs(), r.getErrorDetails());
    }

    /** Which of these clients still have eligible leads (locked ones included). */
    Set<UUID> withEligible(Collection<UUID> clientIds) {
        if (clientIds.isEmpty()) {
            return Set.of();
        }
        return new HashSet<>(dsl.selectDistinct(DE_ENROLLMENT_ELIGIBLE_LEADS.CLIENT_ID)
                .from(DE_ENROLLMENT_ELIGIBLE_LEADS)
                .where(DE_ENROLLMENT_ELIGIBLE_LEADS.CLIENT_ID.eq(DSL.any(clientIds.toArray(UUID[]::new))))
                .fetch(DE_ENROLLMENT_ELIGIBLE_LEADS.CLIENT_ID));
    }

    String host() {
        return HOST;
    }

    public List<AbandonedRun> closeAbandoned() {
        return dsl.selectFrom(deEnrollmentCloseAbandonedRuns())
                .fetch(r -> new AbandonedRun(r.getRunId(), r.getClientId(), r.getRunAt(), r.getHeartbeatAt()));
    }

    /** What a run would de-enroll now, per outcome, without locking or writing anything. */
    public Map<String, Integer> eligibleByOutcome(UUID clientId) {
        return dsl.select(DE_ENROLLMENT_ELIGIBLE_LEADS.OUTCOME, DSL.count())
                .from(DE_ENROLLMENT_ELIGIBLE_LEADS)
                .where(DE_ENROLLMENT_ELIGIBLE_LEADS.CLIENT_ID.eq(clientId))
                .groupBy(DE_ENROLLMENT_ELIGIBLE_LEADS.OUTCOME)
                .fetchMap(DE_ENROLLMENT_ELIGIBLE_LEADS.OUTCOME, DSL.count());
    }

    static Map<String, Integer> outcomes(String json) {
        if (json == null) {
            return Map.of();
        }
        Map<String, Integer> counts = new LinkedHashMap<>();
        try (JsonParser parser = JSON.createParser(json)) {
            boolean object = parser.nextToken() == JsonToken.START_OBJECT;
            while (object && parser.nextToken() == JsonToken.FIELD_NAME) {
                String outcome = parser.currentName();
                object = parser.nextToken() == JsonToken.VALUE_NUMBER_INT;
                if (object) {
                    counts.put(outcome, parser.getIntValue());
                }
            }
            if (!object || parser.currentToken() != JsonToken.END_OBJECT || parser.nextToken() != null) {
                throw new IOException("not an object of whole counts");
            }
        } catch (IOException e) {
            throw new IllegalStateException("by_outcome is not an {outcome: count} object: " + json, e);
        }
        return counts;
    }

    public OffsetDateTime now() {
        return dsl.fetchValue(DSL.currentOffsetDateTime());
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "unknown";
        }
    }
}
