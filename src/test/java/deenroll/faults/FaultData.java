package deenroll.faults;

import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The data every fault scenario starts from: several clients, well-formed and
 * malformed campaigns, leads finished, in flight, already completed, stopped
 * by hand and orphaned; plus a recorder trigger that writes an anomaly row
 * whenever a lead is completed that is not eligible at that instant (campaign
 * read fresh, under the lead's row lock) or is completed twice.
 */
public final class FaultData {

    static final String HOST_OWNED = "host";

    public final List<UUID> clients = new ArrayList<>();
    public final List<UUID> campaigns = new ArrayList<>();
    public final int eligibleAtStart;

    private FaultData(int eligibleAtStart) {
        this.eligibleAtStart = eligibleAtStart;
    }

    /**
     * {@code clients} × 3 campaigns × ({@code finished} at the end + 20 in flight
     * + 3 completed earlier + 2 stopped by hand), one malformed campaign per client,
     * and 10 leads per campaign owned by the simulated host application.
     */
    public static FaultData create(TestDatabase db, int clientCount, int finished) {
        DSLContext dsl = db.db().dsl();
        Fixtures f = new Fixtures(dsl);
        int eligible = 0;
        List<UUID> clientIds = new ArrayList<>();
        List<UUID> campaignIds = new ArrayList<>();
        for (int c = 0; c < clientCount; c++) {
            UUID client = f.client("Client " + c);
            clientIds.add(client);
            for (int k = 0; k < 3; k++) {
                int steps = 2 + k;
                UUID campaign = f.campaign(client, steps);
                campaignIds.add(campaign);
                f.leads(client, campaign, steps + (k == 2 ? 1 : 0), finished);
                eligible += finished;
                for (int i = 0; i < 20; i++) {
                    f.lead(client, campaign, i % steps, i % 7 == 0, i % 11 == 0);
                }
                for (int i = 0; i < 3; i++) {
                    UUID done = f.lead(client, campaign, steps);
                    dsl.execute("UPDATE leads SET is_active = false, completed_at = now() - interval '3 days',"
                            + " campaign_history = '[{\"campaignId\":\"x\"}]' WHERE id = {0}", DSL.val(done));
                }
                for (int i = 0; i < 2; i++) {
                    UUID stopped = f.lead(client, campaign, steps);
                    dsl.execute("UPDATE leads SET is_active = false WHERE id = {0}", DSL.val(stopped));
                }
                for (int i = 0; i < 10; i++) {
                    UUID owned = f.lead(client, campaign, i % steps);
                    dsl.execute("UPDATE leads SET first_name = {0} WHERE id = {1}", DSL.val(HOST_OWNED), DSL.val(owned));
                }
            }
            UUID malformed = f.campaignWithMessages(client, "{\"not\": \"an array\"}");
            f.leads(client, malformed, 9, 5);
            f.lead(client, null, 3);
        }
        f.recount();
        db.sql("CREATE TABLE test_control AS SELECT l.id, md5(l::text) AS row_hash FROM leads l"
                + " WHERE l.first_name IS DISTINCT FROM '" + HOST_OWNED + "'"
                + " AND l.id NOT IN (SELECT lead_id FROM de_enrollment_eligible_leads)");
        db.sql("CREATE TABLE test_initial_history AS SELECT id, CASE WHEN jsonb_typeof(campaign_history) = 'array'"
                + " THEN jsonb_array_length(campaign_history) ELSE 0 END AS entries FROM leads");
        db.sql(RECORDER);
        FaultData data = new FaultData(eligible);
        data.clients.addAll(clientIds);
        data.campaigns.addAll(campaignIds);
        return data;
    }

    private static final String RECORDER = """
            CREATE TABLE test_anomalies (at timestamptz NOT NULL DEFAULT clock_timestamp(), lead_id uuid, what text);
            CREATE FUNCTION test_record_anomalies() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
              v_length integer;
            BEGIN
              IF OLD.completed_at IS NULL AND NEW.completed_at IS NOT NULL THEN
                SELECT de_enrollment_sequence_length(messages) INTO v_length FROM campaigns WHERE id = OLD.campaign_link_id;
                IF NOT coalesce(de_enrollment_is_eligible(OLD.is_active, OLD.completed_at,
                                                          OLD.current_message_position, v_length), false) THEN
                  INSERT INTO test_anomalies (lead_id, what) VALUES (OLD.id, 'completed a lead that was not eligible');
                END IF;
              ELSIF OLD.completed_at IS NOT NULL AND NEW.completed_at IS DISTINCT FROM OLD.completed_at THEN
                INSERT INTO test_anomalies (lead_id, what) VALUES (OLD.id, 'completed a lead twice');
              END IF;
              RETURN NEW;
            END $$;
            CREATE TRIGGER test_record_anomalies BEFORE UPDATE ON leads
              FOR EACH ROW EXECUTE FUNCTION test_record_anomalies();
            """;
}
