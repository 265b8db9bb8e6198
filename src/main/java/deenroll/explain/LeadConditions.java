package deenroll.explain;

import java.time.OffsetDateTime;
import java.util.Optional;
import java.util.UUID;

/**
 * One lead against the eligibility definition, part by part, as the SQL
 * routines evaluate it ({@link Explainer}). Each {@code …Holds} is that part
 * of {@code de_enrollment_is_eligible} on its own; {@code eligible} is the
 * whole definition, the very call the engine makes; {@code outcome} is
 * {@code de_enrollment_outcome}'s, the outcome a de-enrollment would record.
 */
public record LeadConditions(UUID leadId,
                             ClientOf leadClient,
                             boolean isActive,
                             boolean isActiveHolds,
                             Optional<OffsetDateTime> completedAt,
                             boolean completedAtHolds,
                             int position,
                             boolean booked,
                             boolean optedOut,
                             Optional<Campaign> campaign,
                             boolean positionHolds,
                             boolean eligible,
                             String outcome) {

    /** A client: the lead's own, or the one whose campaign the lead is in. */
    public record ClientOf(UUID id, String name, boolean isActive) {
    }

    /**
     * The lead's campaign ({@code campaign_link_id}). {@code messagesType} is
     * what {@code messages} holds ({@code jsonb_typeof}, "missing" for SQL NULL)
     * and {@code messageCount} its elements when it is an array, said so the
     * on-call sees why a sequence is malformed; {@code sequenceLength} is
     * {@code de_enrollment_sequence_length}, empty when malformed, the fact
     * the definition uses.
     */
    public record Campaign(UUID id, String name, ClientOf client, boolean isActive, String messagesType,
                           Optional<Integer> messageCount, Optional<Integer> sequenceLength) {

        public boolean wellFormed() {
            return sequenceLength.isPresent();
        }
    }

    /** Whether the campaign is another client's than the lead's: that client's runs take the lead, not its own's. */
    public boolean campaignOfAnotherClient() {
        return campaign.map(c -> !c.client().id().equals(leadClient.id())).orElse(false);
    }

    /** The client whose runs de-enroll this lead: the campaign's (runs walk a client's campaigns). */
    public Optional<ClientOf> runClient() {
        return campaign.map(Campaign::client);
    }
}
