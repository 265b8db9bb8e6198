package deenroll.explain;

import deenroll.control.Pause;

import java.util.Locale;
import java.util.Optional;

/**
 * What the next scheduled run (`deenroll run`, all active clients) does with
 * the lead, in the order the engine decides it: the definition first, then
 * the pause (a paused database runs nothing), then whether all-client runs
 * take the campaign's client.
 */
public enum NextRun {
    /** It de-enrolls the lead, in the run of its campaign's client. */
    DE_ENROLL,
    /** Nothing: the lead is not eligible. */
    NOT_ELIGIBLE,
    /** Nothing while the pause is in force (`--ignore-pause` runs anyway). */
    PAUSED,
    /** Nothing: scheduled runs skip an inactive client (`run --client-id` takes it). */
    CLIENT_INACTIVE;

    static NextRun of(LeadConditions lead, Optional<Pause> pause) {
        if (!lead.eligible()) {
            return NOT_ELIGIBLE;
        }
        if (pause.isPresent()) {
            return PAUSED;
        }
        // eligible implies a campaign
        return lead.runClient().orElseThrow().isActive() ? DE_ENROLL : CLIENT_INACTIVE;
    }

    /** The JSON name: de_enroll, not_eligible, paused, client_inactive. */
    public String json() {
        return name().toLowerCase(Locale.ROOT);
    }
}
