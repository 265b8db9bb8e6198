package deenroll.alert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import deenroll.support.AlertReceiver;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Slack incoming webhook gets {"text": ...}: what failed, for which client,
 * the run, the counts and the next step, readable in the channel.
 */
class SlackAlertsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void slacksOwnWebhookHostGetsSlackAndAnyOtherUrlTheGenericJson() {
        assertThat(AlertFormat.forUrl(URI.create("https://hooks.slack.com/services/T000/B000/XXXX"))).isEqualTo(AlertFormat.SLACK);
        assertThat(AlertFormat.forUrl(URI.create("https://n8n.example.org/webhook/alerts"))).isEqualTo(AlertFormat.JSON);
    }

    @Test
    void aFailedClientReadsAsASlackMessage() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated(); AlertReceiver slack = new AlertReceiver()) {
            Fixtures f = new Fixtures(db.db().dsl());
            UUID acme = f.client("Acme <Ops> & Co");
            f.leads(acme, f.campaign(acme, 2), 2, 2);
            f.recount();
            db.sql("CREATE FUNCTION test_fail() RETURNS trigger LANGUAGE plpgsql AS $$"
                    + " BEGIN RAISE EXCEPTION 'test: campaign broken' USING ERRCODE = 'query_canceled'; END $$;"
                    + " CREATE TRIGGER test_fail AFTER UPDATE ON campaigns FOR EACH ROW EXECUTE FUNCTION test_fail();");

            Cli.Result r = Cli.run(db, Map.of("DE_ENROLLMENT_ALERT_WEBHOOK", slack.url(),
                    "DE_ENROLLMENT_ALERT_FORMAT", "slack"), "run", "--output", "json");

            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(slack.bodies()).hasSize(1);
            JsonNode body = JSON.readTree(slack.bodies().get(0));
            assertThat(body.size()).as("only text: %s", body).isEqualTo(1);
            String text = body.path("text").asText();
            String runId = JSON.readTree(r.out()).path("clients").get(0).path("runId").asText();
            assertThat(text.lines().findFirst().orElseThrow())
                    .contains("CRITICAL").contains("De-enrollment failed for client Acme &lt;Ops&gt; &amp; Co (" + acme + ")");
            assertThat(text).contains("*Client:* Acme &lt;Ops&gt; &amp; Co (" + acme + ")")
                    .contains("*Run:* " + runId)
                    .contains("*Leads:* 0 de-enrolled, 0 failed")
                    .contains("*Error:* ").contains("campaign broken")
                    .contains("*Next step:* ").contains("deenroll run --client-id=" + acme);
        }
    }
}
