package deenroll.engine;

import deenroll.db.TransientErrors;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

import static deenroll.db.schema.Routines.getLeadsForDeEnrollment;
import static deenroll.db.schema.Routines.processDeEnrollmentBatch;
import static deenroll.db.schema.Tables.GET_LEADS_FOR_DE_ENROLLMENT;

/**
 * One batch = one statement = one transaction: lock up to N eligible leads of
 * a client (SKIP LOCKED) and de-enroll exactly those, in a single round trip.
 * Transient failures are retried with exponential backoff and jitter; retrying
 * is safe because a committed batch leaves nothing eligible to redo.
 */
public final class Batches {

    private static final Logger LOG = LoggerFactory.getLogger(Batches.class);
    static final int MAX_ATTEMPTS = 5;
    private static final long BASE_BACKOFF_MS = 100;

    private final DSLContext dsl;

    public Batches(DSLContext dsl) {
        this.dsl = dsl;
    }

    public Counts next(UUID runId, UUID clientId, int batchSize) {
        for (int attempt = 1; ; attempt++) {
            try {
                return once(runId, clientId, batchSize);
            } catch (RuntimeException e) {
                if (attempt >= MAX_ATTEMPTS || !TransientErrors.isTransient(e)) {
                    throw e;
                }
                long backoff = BASE_BACKOFF_MS << (attempt - 1);
                long sleep = backoff + ThreadLocalRandom.current().nextLong(backoff);
                LOG.warn("batch of run {} failed transiently (attempt {}/{}), retrying in {} ms: {}",
                        runId, attempt, MAX_ATTEMPTS, sleep, e.getMessage());
                sleep(sleep);
            }
        }
    }

    private Counts once(UUID runId, UUID clientId, int batchSize) {
        var leadIds = DSL.array(DSL.select(GET_LEADS_FOR_DE_ENROLLMENT.LEAD_ID)
                .from(getLeadsForDeEnrollment(DSL.val(clientId), DSL.val(batchSize), DSL.val(runId))));
        var r = dsl.selectFrom(processDeEnrollmentBatch(DSL.val(runId), leadIds)).fetchSingle();
        return new Counts(r.getLeadsEvaluated(), r.getLeadsDeEnrolled(), r.getLeadsSkipped(),
                r.getLeadsFailed(), Runs.outcomes(r.getByOutcome()));
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
