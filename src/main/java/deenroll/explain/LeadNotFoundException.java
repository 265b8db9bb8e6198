package deenroll.explain;

import java.util.UUID;

/** No lead with the id asked about in this database (explain exits 1 with this one line). */
public final class LeadNotFoundException extends RuntimeException {

    public LeadNotFoundException(UUID leadId) {
        super("explain: no lead " + leadId + " in this database");
    }
}
