package deenroll.engine;

import deenroll.db.TransientErrors;
import org.jooq.DSLContext;
import org.jooq.Field;
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
 * a client (SKIP LOCKED) and de-enroll exactly those, in a single round trip,
 * resuming where the run's previous batch stopped.
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

    /** The next batch of a run; {@code after} is the previous batch's cursor, null for the first. */
    public Batch next(UUID runId, UUID clientId, int batchSize, BatchCursor after) {
        for (int attempt = 1; ; attempt++) {
            try {
                return once(runId, clientId, batchSize, after);
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

    /**
     * WITH picked AS MATERIALIZED (get_leads_for_de_enrollment(...))
     * SELECT batch.*, last.* FROM process_de_enrollment_batch(run, ARRAY(picked leads), ARRAY(their campaigns)) batch
     * LEFT JOIN (the last picked row) last ON true
     */
    private Batch once(UUID runId, UUID clientId, int batchSize, BatchCursor after) {
        var source = getLeadsForDeEnrollment(DSL.val(clientId), DSL.val(batchSize), DSL.val(runId),
                DSL.val(after == null ? null : after.campaignId(), UUID.class),
                DSL.val(after == null ? null : after.position(), Integer.class),
                DSL.val(after == null ? null : after.leadId(), UUID.class));
        var picked = DSL.name("picked").fields("lead_id", "campaign_id", "message_position").asMaterialized(
                DSL.select(GET_LEADS_FOR_DE_ENROLLMENT.LEAD_ID, GET_LEADS_FOR_DE_ENROLLMENT.CAMPAIGN_ID,
                        GET_LEADS_FOR_DE_ENROLLMENT.MESSAGE_POSITION).from(source));
        Field<UUID> lead = picked.field("lead_id", UUID.class);
        Field<UUID> campaign = picked.field("campaign_id", UUID.class);
        Field<Integer> position = picked.field("message_position", Integer.class);
        var batch = processDeEnrollmentBatch(DSL.val(runId),
                DSL.array(DSL.select(lead).from(picked)),
                DSL.array(DSL.selectDistinct(campaign).from(picked)));
        var last = DSL.select(campaign, position, lead).from(picked)
                .orderBy(campaign.desc(), position.desc(), lead.desc()).limit(1).asTable("last");
        var r = dsl.with(picked)
                .select(batch.LEADS_EVALUATED, batch.LEADS_DE_ENROLLED, batch.LEADS_SKIPPED, batch.LEADS_FAILED,
                        batch.BY_OUTCOME, last.field(campaign), last.field(position), last.field(lead))
                .from(batch).leftJoin(last).on(DSL.trueCondition())
                .fetchSingle();
        Counts counts = new Counts(r.value1(), r.value2(), r.value3(), r.value4(), Runs.outcomes(r.value5()));
        BatchCursor cursor = r.value6() == null ? null : new BatchCursor(r.value6(), r.value7(), r.value8());
        return new Batch(counts, cursor);
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
