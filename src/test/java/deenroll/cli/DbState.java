package deenroll.cli;

import deenroll.support.TestDatabase;
import org.jooq.impl.DSL;

/**
 * Everything a command could change, as one comparable value: every lead and
 * campaign row (whole rows as text), and the number of run and lead-log rows.
 * Equal before and after means the command touched nothing.
 */
record DbState(String leads, String campaigns, long runs, long leadLog) {

    static DbState of(TestDatabase db) {
        var dsl = db.db().dsl();
        return new DbState(
                dsl.fetchValue(DSL.field("(SELECT coalesce(string_agg(l::text, E'\\n' ORDER BY l.id), '') FROM leads l)", String.class)),
                dsl.fetchValue(DSL.field("(SELECT coalesce(string_agg(c::text, E'\\n' ORDER BY c.id), '') FROM campaigns c)", String.class)),
                dsl.fetchValue(DSL.field("(SELECT count(*) FROM de_enrollment_runs)", Long.class)),
                dsl.fetchValue(DSL.field("(SELECT count(*) FROM de_enrollment_lead_log)", Long.class)));
    }

    /** For a database without the tool's tables (before `migrate`): host rows only. */
    static String hostRows(TestDatabase db) {
        var dsl = db.db().dsl();
        return dsl.fetchValue(DSL.field("(SELECT coalesce(string_agg(l::text, E'\\n' ORDER BY l.id), '') FROM leads l)"
                + " || (SELECT coalesce(string_agg(c::text, E'\\n' ORDER BY c.id), '') FROM campaigns c)"
                + " || (SELECT coalesce(string_agg(k::text, E'\\n' ORDER BY k.id), '') FROM clients k)", String.class));
    }
}
