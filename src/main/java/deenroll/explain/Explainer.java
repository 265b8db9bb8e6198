package deenroll.explain;

import deenroll.control.Pauses;
import deenroll.db.schema.tables.Campaigns;
import deenroll.db.schema.tables.Clients;
import deenroll.db.schema.tables.Leads;
import deenroll.ops.LeadStory;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.impl.DSL;
import org.jooq.impl.SQLDataType;

import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static deenroll.db.schema.Routines.deEnrollmentInvocationPosition;
import static deenroll.db.schema.Routines.deEnrollmentIsEligible;
import static deenroll.db.schema.Routines.deEnrollmentLeaseExpired;
import static deenroll.db.schema.Routines.deEnrollmentOutcome;
import static deenroll.db.schema.Routines.deEnrollmentSequenceLength;
import static deenroll.db.schema.Tables.CAMPAIGNS;
import static deenroll.db.schema.Tables.CLIENTS;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_HEARTBEATS;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_INVOCATIONS;
import static deenroll.db.schema.Tables.LEADS;

/**
 * Why a lead is or is not de-enrolled, from the SQL definitions the engine
 * uses and nothing else: {@code de_enrollment_sequence_length},
 * {@code de_enrollment_is_eligible}, {@code de_enrollment_outcome}, the pause,
 * the live invocations. Reads only, in a read-only transaction: it writes
 * nothing and takes no lock.
 */
public final class Explainer {

    private static final Leads L = LEADS.as("l");
    private static final Campaigns C = CAMPAIGNS.as("c");
    private static final Clients LEAD_CLIENT = CLIENTS.as("lc");
    private static final Clients CAMPAIGN_CLIENT = CLIENTS.as("cc");

    private static final Field<Integer> SEQUENCE_LENGTH = deEnrollmentSequenceLength(C.MESSAGES).as("sequence_length");
    // Each part on its own: the definition itself, its other arguments those of a lead that
    // passes them (an open lead: active, not completed; the furthest position in a sequence of
    // one message). So a change to the definition changes what each part says, and no part is
    // a copy of it. It takes the definition to be what DESIGN §3 says, the lead's state AND its
    // position reaching the sequence's end; ExplainFormat says so when only the whole fails.
    private static final Field<Boolean> IS_ACTIVE_HOLDS =
            holds(deEnrollmentIsEligible(L.IS_ACTIVE, noTime(), furthest(), DSL.val(1)), "is_active_holds");
    private static final Field<Boolean> COMPLETED_AT_HOLDS =
            holds(deEnrollmentIsEligible(DSL.val(true), L.COMPLETED_AT, furthest(), DSL.val(1)), "completed_at_holds");
    private static final Field<Boolean> POSITION_HOLDS = holds(deEnrollmentIsEligible(DSL.val(true), noTime(),
            L.CURRENT_MESSAGE_POSITION, deEnrollmentSequenceLength(C.MESSAGES)), "position_holds");
    // the whole definition, as get_leads_for_de_enrollment and de_enrollment_apply call it
    private static final Field<Boolean> ELIGIBLE = holds(deEnrollmentIsEligible(L.IS_ACTIVE, L.COMPLETED_AT,
            L.CURRENT_MESSAGE_POSITION, deEnrollmentSequenceLength(C.MESSAGES)), "eligible");
    private static final Field<String> OUTCOME = deEnrollmentOutcome(L.BOOKED, L.OPTED_OUT).as("outcome");
    private static final Field<String> MESSAGES_TYPE =
            DSL.coalesce(DSL.field("jsonb_typeof({0})", String.class, C.MESSAGES), DSL.inline("missing")).as("messages_type");
    private static final Field<Integer> MESSAGE_COUNT = DSL.field(
            "CASE WHEN jsonb_typeof({0}) = 'array' THEN jsonb_array_length({0}) END", Integer.class, C.MESSAGES)
            .as("message_count");

    private final DSLContext dsl;

    public Explainer(DSLContext dsl) {
        this.dsl = dsl;
    }

    /** The explanation, read in one transaction so its parts agree; {@link LeadNotFoundException} without the lead. */
    public Explanation explain(UUID leadId) {
        return dsl.transactionResult(tx -> {
            DSLContext t = tx.dsl();
            t.execute("SET TRANSACTION READ ONLY");   // this transaction's only: nothing left on the connection
            LeadConditions lead = conditions(t, leadId).orElseThrow(() -> new LeadNotFoundException(leadId));
            var pause = new Pauses(t).current();
            List<Claim> claims = lead.runClient().map(c -> claims(t, c.id())).orElse(List.of());
            return new Explanation(lead, LeadStory.of(t, leadId), pause, claims, NextRun.of(lead, pause));
        });
    }

    private static Optional<LeadConditions> conditions(DSLContext dsl, UUID leadId) {
        return dsl.select(L.ID, L.IS_ACTIVE, L.COMPLETED_AT, L.CURRENT_MESSAGE_POSITION, L.BOOKED, L.OPTED_OUT,
                        LEAD_CLIENT.ID, LEAD_CLIENT.NAME, LEAD_CLIENT.IS_ACTIVE,
                        C.ID, C.NAME, C.IS_ACTIVE, CAMPAIGN_CLIENT.ID, CAMPAIGN_CLIENT.NAME, CAMPAIGN_CLIENT.IS_ACTIVE,
                        MESSAGES_TYPE, MESSAGE_COUNT, SEQUENCE_LENGTH,
                        IS_ACTIVE_HOLDS, COMPLETED_AT_HOLDS, POSITION_HOLDS, ELIGIBLE, OUTCOME)
                .from(L)
                .join(LEAD_CLIENT).on(LEAD_CLIENT.ID.eq(L.CLIENT_ID))
                // the join every definition makes: the lead's campaign is campaign_link_id
                .leftJoin(C).on(C.ID.eq(L.CAMPAIGN_LINK_ID))
                .leftJoin(CAMPAIGN_CLIENT).on(CAMPAIGN_CLIENT.ID.eq(C.CLIENT_ID))
                .where(L.ID.eq(leadId))
                .fetchOptional(Explainer::conditions);
    }

    private static LeadConditions conditions(Record r) {
        Optional<LeadConditions.Campaign> campaign = Optional.ofNullable(r.get(C.ID)).map(id -> new LeadConditions.Campaign(
                id, r.get(C.NAME),
                new LeadConditions.ClientOf(r.get(CAMPAIGN_CLIENT.ID), r.get(CAMPAIGN_CLIENT.NAME), r.get(CAMPAIGN_CLIENT.IS_ACTIVE)),
                r.get(C.IS_ACTIVE), r.get(MESSAGES_TYPE), Optional.ofNullable(r.get(MESSAGE_COUNT)),
                Optional.ofNullable(r.get(SEQUENCE_LENGTH))));
        return new LeadConditions(r.get(L.ID),
                new LeadConditions.ClientOf(r.get(LEAD_CLIENT.ID), r.get(LEAD_CLIENT.NAME), r.get(LEAD_CLIENT.IS_ACTIVE)),
                r.get(L.IS_ACTIVE), r.get(IS_ACTIVE_HOLDS), Optional.ofNullable(r.get(L.COMPLETED_AT)),
                r.get(COMPLETED_AT_HOLDS), r.get(L.CURRENT_MESSAGE_POSITION), r.get(L.BOOKED), r.get(L.OPTED_OUT),
                campaign, r.get(POSITION_HOLDS), r.get(ELIGIBLE), r.get(OUTCOME));
    }

    /**
     * The live invocations that still have {@code clientId} to do: in flight
     * ({@code de_enrollment_invocation_position}) or later in their list. An
     * invocation whose lease expired is left out: the next run closes it as
     * abandoned before it starts, so it claims nothing. (One whose batch is
     * still in flight past its lease is alive, as the closer finds by trying
     * its lock; explain takes no lock, so it may leave out such a rare one.)
     */
    private static List<Claim> claims(DSLContext dsl, UUID clientId) {
        Field<Integer> position = deEnrollmentInvocationPosition(DE_ENROLLMENT_INVOCATIONS.ID).as("position");
        Field<Integer> clientIndex = DSL.field("array_position({0}, {1})", Integer.class,
                DE_ENROLLMENT_INVOCATIONS.CLIENT_IDS, DSL.val(clientId));
        Field<Integer> index = clientIndex.as("client_index");
        return dsl.select(DE_ENROLLMENT_INVOCATIONS.ID, DE_ENROLLMENT_INVOCATIONS.HOST, DE_ENROLLMENT_INVOCATIONS.PID,
                        DE_ENROLLMENT_INVOCATIONS.IGNORE_PAUSE, position, index)
                .from(DE_ENROLLMENT_INVOCATIONS)
                .leftJoin(DE_ENROLLMENT_HEARTBEATS).on(DE_ENROLLMENT_HEARTBEATS.INVOCATION_ID.eq(DE_ENROLLMENT_INVOCATIONS.ID))
                .where(DE_ENROLLMENT_INVOCATIONS.STATUS.eq("running"))
                .and(clientIndex.isNotNull())
                .andNot(deEnrollmentLeaseExpired(DSL.coalesce(DE_ENROLLMENT_HEARTBEATS.HEARTBEAT_AT,
                        DE_ENROLLMENT_INVOCATIONS.STARTED_AT), DE_ENROLLMENT_INVOCATIONS.LEASE_MS))
                .orderBy(DE_ENROLLMENT_INVOCATIONS.STARTED_AT, DE_ENROLLMENT_INVOCATIONS.ID)
                .fetch()
                .stream()
                .filter(r -> r.get(index) >= r.get(position))
                .map(r -> new Claim(r.get(DE_ENROLLMENT_INVOCATIONS.ID), r.get(DE_ENROLLMENT_INVOCATIONS.HOST),
                        r.get(DE_ENROLLMENT_INVOCATIONS.PID), r.get(index).equals(r.get(position)),
                        r.get(DE_ENROLLMENT_INVOCATIONS.IGNORE_PAUSE)))
                .toList();
    }

    /** NULL (the definitions' "no value") counts as not holding, as it does in a WHERE. */
    private static Field<Boolean> holds(Field<Boolean> part, String name) {
        return DSL.coalesce(part, DSL.inline(false)).as(name);
    }

    private static Field<Integer> furthest() {
        return DSL.val(Integer.MAX_VALUE);
    }

    private static Field<OffsetDateTime> noTime() {
        return DSL.castNull(SQLDataType.TIMESTAMPWITHTIMEZONE);
    }
}
