package deenroll.db;

import deenroll.support.Query;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One list of retryable errors: what de_enrollment_retryable(sqlstate) (0027)
 * makes PL/pgSQL re-raise for the caller is exactly what TransientErrors
 * retries, over every SQLSTATE of the classes that matter and a sample of others.
 */
class TransientErrorsTest {

    /** PostgreSQL's codes of classes 08, 40, 53, 55, 57 (errcodes.txt), and some others the engine meets. */
    private static final List<String> STATES = List.of(
            "08000", "08001", "08003", "08004", "08006", "08007", "08P01",
            "40000", "40001", "40002", "40003", "40P01",
            "53000", "53100", "53200", "53300", "53400",
            "55000", "55006", "55P02", "55P03", "55P04",
            "57000", "57014", "57P01", "57P02", "57P03", "57P04", "57P05",
            "23505", "23503", "22P02", "25P02", "42P05", "42883", "55000", "P0001", "XX000", "0A000");

    @Test
    void theJavaListIsTheSqlList() {
        TreeSet<String> states = new TreeSet<>(STATES);
        states.addAll(TransientErrors.RETRYABLE.keySet());
        try (TestDatabase db = TestPostgres.get().migrated()) {
            for (String state : states) {
                boolean sql = Query.value(db.db().dsl(), Boolean.class, "SELECT de_enrollment_retryable(?)", state);
                assertThat(TransientErrors.ofSqlState(state).isPresent()).as("retryable %s", state).isEqualTo(sql);
            }
        }
    }

    @Test
    void aLostConnectionIsAnOutageAndATimeoutAConflict() {
        assertThat(TransientErrors.ofSqlState("08006")).contains(TransientErrors.Kind.OUTAGE);
        assertThat(TransientErrors.ofSqlState("57P01")).contains(TransientErrors.Kind.OUTAGE);
        assertThat(TransientErrors.ofSqlState("57014")).contains(TransientErrors.Kind.CONFLICT);
        assertThat(TransientErrors.ofSqlState("40P01")).contains(TransientErrors.Kind.CONFLICT);
        assertThat(TransientErrors.ofSqlState("42P05")).isEmpty();
    }
}
