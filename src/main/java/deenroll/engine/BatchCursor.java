package deenroll.engine;

import java.util.UUID;

/**
 * Where a run's previous batch stopped: its last (campaign, position, lead) in
 * the walk order of get_leads_for_de_enrollment. The next batch resumes right
 * after it, so a run reads each lead once however many batches it takes.
 */
public record BatchCursor(UUID campaignId, int position, UUID leadId) {
}
