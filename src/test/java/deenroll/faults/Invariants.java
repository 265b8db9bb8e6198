package deenroll.faults;

import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;

import java.util.ArrayList;
import java.util.List;

/**
 * DESIGN §4's invariants, checked on the database after a scenario and a final
 * clean run. Each violated one is returned as a line; an empty list is a pass.
 */
public final class Invariants {

    private Invariants() {
    }

    /**
     * The control group (leads not eligible at the start and not owned by the
     * simulated host) must be byte-identical; poison leads may stay eligible.
     */
    public static List<String> check(TestDatabase db, boolean expectNothingEligible) {
        DSLContext dsl = db.db().dsl();
        List<String> anomalies = new ArrayList<>();
        int twice = count(dsl, "SELECT count(*) FROM (SELECT lead_id FROM de_enrollment_lead_log"
                + " WHERE action = 'de_enrolled' GROUP BY lead_id HAVING count(*) > 1) x");
        add(anomalies, twice, "lead(s) with more than one de_enrolled log row");
        int unlogged = count(dsl, "SELECT count(*) FROM leads l JOIN test_initial_history h ON h.id = l.id"
                + " WHERE l.completed_at IS NOT NULL AND l.completed_at > now() - interval '1 day'"
                + " AND NOT EXISTS (SELECT 1 FROM de_enrollment_lead_log g WHERE g.lead_id = l.id AND g.action = 'de_enrolled')");
        add(anomalies, unlogged, "lead(s) completed without a de_enrolled log row");
        // the log rows counted once per lead, then joined: the lead log has no lead_id index (0025), so a
        // subquery per lead would read the whole log once per lead
        int historyOff = count(dsl, "SELECT count(*) FROM leads l JOIN test_initial_history h ON h.id = l.id"
                + " LEFT JOIN (SELECT lead_id, count(*) AS n FROM de_enrollment_lead_log WHERE action = 'de_enrolled'"
                + " GROUP BY lead_id) g ON g.lead_id = l.id"
                + " WHERE (CASE WHEN jsonb_typeof(l.campaign_history) = 'array' THEN jsonb_array_length(l.campaign_history) ELSE 0 END)"
                + " - h.entries <> coalesce(g.n, 0)");
        add(anomalies, historyOff, "lead(s) whose new history entries differ from their de_enrolled log rows");
        add(anomalies, new Fixtures(dsl).drift(), "campaign(s) with counter drift");
        add(anomalies, count(dsl, "SELECT count(*) FROM campaigns WHERE least(active_leads_count, completed_leads_count,"
                + " opted_out_count, booked_count) < 0"), "campaign(s) with a negative counter");
        int touched = count(dsl, "SELECT count(*) FROM test_control c JOIN leads l ON l.id = c.id WHERE md5(l::text) <> c.row_hash");
        add(anomalies, touched, "non-eligible lead(s) changed");
        int recorded = count(dsl, "SELECT count(*) FROM test_anomalies");
        add(anomalies, recorded, "anomaly row(s) recorded by the trigger: "
                + dsl.fetch("SELECT what, count(*) FROM test_anomalies GROUP BY what").formatCSV(false));
        add(anomalies, count(dsl, "SELECT count(*) FROM de_enrollment_runs WHERE status = 'running'"),
                "run row(s) still 'running' after the final run");
        if (expectNothingEligible) {
            add(anomalies, count(dsl, "SELECT count(*) FROM de_enrollment_eligible_leads e"
                    + " JOIN leads l ON l.id = e.lead_id WHERE l.first_name IS DISTINCT FROM 'poison'"), "lead(s) still eligible");
        }
        return anomalies;
    }

    public static int deEnrolled(TestDatabase db) {
        return count(db.db().dsl(), "SELECT count(*) FROM de_enrollment_lead_log WHERE action = 'de_enrolled'");
    }

    private static void add(List<String> anomalies, int n, String what) {
        if (n != 0) {
            anomalies.add(n + " " + what);
        }
    }

    private static int count(DSLContext dsl, String sql) {
        return dsl.fetchValue(DSL.field("(" + sql + ")", Integer.class));
    }
}
