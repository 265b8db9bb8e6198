package deenroll.engine;

import deenroll.db.schema.tables.records.DeEnrollmentRunsRecord;
import deenroll.db.schema.tables.records.LeadsRecord;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static deenroll.db.schema.Tables.LEADS;
import static deenroll.engine.EngineTestKit.describe;
import static deenroll.engine.EngineTestKit.history;
import static deenroll.engine.EngineTestKit.lead;
import static deenroll.engine.EngineTestKit.leads;
import static deenroll.engine.EngineTestKit.logRows;
import static deenroll.engine.EngineTestKit.run;
import static deenroll.engine.EngineTestKit.runRows;
import static org.assertj.core.api.Assertions.assertThat;

/** DESIGN §4 invariant 1: a lead is de-enrolled once, with one log row, however often the job runs. */
class EngineIdempotenceTest {

    @Test
    void eachLeadIsLoggedOnceAndASecondRunFindsNothingMore() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            DSLContext dsl = db.db().dsl();
            Fixtures f = new Fixtures(dsl);
            UUID client = f.client("Acme");
            UUID campaign = f.campaign(client, 3);
            List<UUID> finished = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                finished.add(f.lead(client, campaign, 3 + i % 2));
            }
            UUID waiting = f.lead(client, campaign, 2);
            f.recount();

            Cli.Result first = run(db);

            assertThat(first.exitCode()).as(describe(first)).isZero();
            for (UUID id : finished) {
                assertThat(logRows(dsl, id, "de_enrolled")).as("de_enrolled log rows of lead %s", id).isEqualTo(1);
            }
            assertThat(logRows(dsl)).as("lead-log rows in all").isEqualTo(5);
            Map<UUID, LeadsRecord> afterFirst = leads(dsl);

            Cli.Result second = run(db);

            assertThat(second.exitCode()).as(describe(second)).isZero();
            assertThat(logRows(dsl)).as("lead-log rows after a run with nothing to do").isEqualTo(5);
            assertThat(leads(dsl)).as("every lead, whole rows, after the second run").isEqualTo(afterFirst);
            List<DeEnrollmentRunsRecord> runs = runRows(dsl);
            assertThat(runs).hasSize(2);
            assertThat(runs.get(1).getLeadsDeEnrolled()).as("leads_de_enrolled of the second run").isZero();
            assertThat(runs.get(1).getStatus()).isEqualTo("success");

            // the host app sends the waiting lead its last message: the next run takes that one only
            dsl.update(LEADS).set(LEADS.CURRENT_MESSAGE_POSITION, 3).where(LEADS.ID.eq(waiting)).execute();
            Cli.Result third = run(db);

            assertThat(third.exitCode()).as(describe(third)).isZero();
            assertThat(logRows(dsl)).isEqualTo(6);
            assertThat(logRows(dsl, waiting, "de_enrolled")).isEqualTo(1);
            assertThat(history(lead(dsl, waiting))).hasSize(1);
            for (UUID id : finished) {
                assertThat(history(lead(dsl, id))).as("history of lead %s after three runs", id).hasSize(1);
            }
            assertThat(f.drift()).isZero();
        }
    }
}
