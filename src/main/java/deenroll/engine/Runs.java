package deenroll.engine;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import deenroll.db.schema.tables.records.DeEnrollmentInvocationRunsRecord;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import static deenroll.db.Among.among;
import static deenroll.db.schema.Routines.deEnrollmentClientsToRun;
import static deenroll.db.schema.Routines.deEnrollmentCloseAbandonedInvocations;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_ELIGIBLE_LEADS;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_INVOCATION_RUNS;

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
     * The clients a run works on, in order (de_enrollment_clients_to_run, the
     * definition the invocation itself uses): the one named, or every active
     * client, least recently run first.
     */
    public List<Client> clientsToRun(Optional<UUID> clientId) {
        return dsl.selectFrom(deEnrollmentClientsToRun(clientId.orElse(null)))
                .fetch(r -> new Client(r.getClientId(), r.getClientName()));
    }

    /**
     * Every client of the invocation, in its order, with its run as the run's row says
     * (de_enrollment_invocation_runs: one statement, however many clients); the run's
     * columns are null for a client not started.
     */
    List<DeEnrollmentInvocationRunsRecord> ofInvocation(UUID invocationId) {
        var runs = DE_ENROLLMENT_INVOCATION_RUNS(invocationId);
        // the function orders its rows, but only the outer query's ORDER BY is a promise
        return dsl.selectFrom(runs).orderBy(runs.CLIENT_POSITION).fetch();
    }

    /** The run as the engine reports it: what its row says. */
    static ClientRun clientRun(Client client, DeEnrollmentInvocationRunsRecord r) {
        Counts counts = new Counts(r.getLeadsEvaluated(), r.getLeadsDeEnrolled(), r.getLeadsSkipped(),
                r.getLeadsFailed(), outcomes(r.getByOutcome() == null ? null : r.getByOutcome().data()));
        return new ClientRun(client.id(), client.name(), r.getRunId(), RunStatus.of(r.getStatus()), counts, r.getBatches(),
                r.getDurationMs() == null ? 0 : r.getDurationMs(), r.getErrorDetails());
    }

    /** Which of these clients still have eligible leads (locked ones included). */
    Set<UUID> withEligible(Collection<UUID> clientIds) {
        if (clientIds.isEmpty()) {
            return Set.of();
        }
        return new HashSet<>(dsl.selectDistinct(DE_ENROLLMENT_ELIGIBLE_LEADS.CLIENT_ID)
                .from(DE_ENROLLMENT_ELIGIBLE_LEADS)
                .where(among(DE_ENROLLMENT_ELIGIBLE_LEADS.CLIENT_ID, clientIds.toArray(UUID[]::new)))
                .fetch(DE_ENROLLMENT_ELIGIBLE_LEADS.CLIENT_ID));
    }

    /** This machine's name, as invocation, run and pause rows record it ("unknown" when it cannot name itself). */
    public static String host() {
        return HOST;
    }

    public List<AbandonedRun> closeAbandoned() {
        return dsl.selectFrom(deEnrollmentCloseAbandonedInvocations())
                .fetch(r -> new AbandonedRun(r.getRunId(), r.getClientId(), r.getInvocationId(), r.getHost(), r.getPid(),
                        r.getRunAt(), r.getHeartbeatAt()));
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

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "unknown";
        }
    }
}
