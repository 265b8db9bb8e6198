package deenroll.engine;

import deenroll.db.schema.tables.records.DeEnrollmentInvocationRunsRecord;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.UUID;

import static deenroll.db.schema.Tables.DE_ENROLLMENT_INVOCATION_RUNS;
import static deenroll.engine.InvocationKit.begin;
import static deenroll.engine.InvocationKit.bulkLeads;
import static deenroll.engine.InvocationKit.call;
import static deenroll.engine.InvocationKit.client;
import static deenroll.engine.InvocationKit.runId;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * de_enrollment_invocation_runs (0034), what the engine's report reads: every
 * client of the invocation once, in the invocation's order, with what its run
 * row says; a client not started has no run columns, and a client the host
 * deleted meanwhile keeps its run, without a name.
 */
class InvocationRunsTest {

    private static final UUID INVOCATION = UUID.fromString("00000000-0000-0000-0000-0000000000bb");

    @Test
    void everyClientInTheInvocationsOrderWithWhatItsRunRowSays() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID first = client(dsl, 1, "First");
            UUID idle = client(dsl, 2, "Idle");
            UUID last = client(dsl, 3, "Last");
            bulkLeads(dsl, first, f.campaign(first, 2), 2, 5);
            f.campaign(idle, 2);
            bulkLeads(dsl, last, f.campaign(last, 2), 2, 3);
            f.recount();

            assertThat(begin(dsl, INVOCATION, 2, false)).isEqualTo("running");
            // a slice of 0 ms is one batch: the first look closes the idle client's run (the invocation's order
            // puts it first: it is done), then two of First's five leads
            call(dsl, INVOCATION, 0);
            db.sql("DELETE FROM campaigns WHERE client_id = '" + idle + "'; DELETE FROM clients WHERE id = '" + idle + "'");

            List<DeEnrollmentInvocationRunsRecord> rows = dsl.selectFrom(DE_ENROLLMENT_INVOCATION_RUNS(INVOCATION)).fetch();
            assertThat(rows).extracting(DeEnrollmentInvocationRunsRecord::getClientPosition).containsExactly(1, 2, 3);
            assertThat(rows).extracting(DeEnrollmentInvocationRunsRecord::getClientId).containsExactly(idle, first, last);
            assertThat(rows).extracting(DeEnrollmentInvocationRunsRecord::getClientName).containsExactly(null, "First", "Last");
            assertThat(rows).extracting(DeEnrollmentInvocationRunsRecord::getRunId)
                    .containsExactly(runId(INVOCATION, idle), runId(INVOCATION, first), null);
            assertThat(rows).extracting(DeEnrollmentInvocationRunsRecord::getStatus).containsExactly("success", "running", null);
            assertThat(rows).extracting(DeEnrollmentInvocationRunsRecord::getLeadsDeEnrolled).containsExactly(0, 2, null);
            assertThat(rows).extracting(DeEnrollmentInvocationRunsRecord::getBatches).containsExactly(0, 1, null);
            assertThat(rows.get(1).getByOutcome().data()).contains("\"completed\": 2");
        }
    }
}
