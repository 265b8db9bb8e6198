package deenroll.health;

import org.jooq.DSLContext;

import java.util.List;
import java.util.UUID;

/**
 * The leads that could not be de-enrolled in the last 24 hours (an 'error' row
 * in de_enrollment_lead_log) and are still enrolled, per client, with the
 * error that came back most often. A lead de-enrolled by a later run no longer
 * counts. Read through the runs of the last day and the lead log's partial
 * error index, never the whole lead log.
 */
public final class LeadErrors {

    /** One client's leads left enrolled by errors. */
    public record OfClient(ClientRef client, int leads, String mostFrequentError) {
    }

    private final DSLContext dsl;

    public LeadErrors(DSLContext dsl) {
        this.dsl = dsl;
    }

    public List<OfClient> last24h() {
        return dsl.resultQuery("SELECT r.client_id, c.name, count(DISTINCT g.lead_id) AS leads,"
                        + " mode() WITHIN GROUP (ORDER BY g.error_message) AS top_error"
                        + " FROM de_enrollment_runs r"
                        + " JOIN de_enrollment_lead_log g ON g.run_id = r.id AND g.action = 'error'"
                        + " JOIN leads l ON l.id = g.lead_id AND l.completed_at IS NULL"
                        + " JOIN clients c ON c.id = r.client_id"
                        + " WHERE r.run_at > now() - interval '24 hours' AND g.processed_at > now() - interval '24 hours'"
                        + " GROUP BY r.client_id, c.name ORDER BY c.name, r.client_id")
                .fetch(r -> new OfClient(new ClientRef(r.get(0, UUID.class), r.get(1, String.class)),
                        r.get(2, Integer.class), r.get(3, String.class)));
    }
}
