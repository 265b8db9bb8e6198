package deenroll.cli;

import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.HttpRecorder;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** Pushgateway credentials and ping-URL tokens appear in no output and no log, even when those services fail. */
class MonitoringSecretsTest {

    @Test
    void failingPushgatewayAndPingLeaveTheirSecretsNowhere() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated(); HttpRecorder failing = new HttpRecorder(500)) {
            Fixtures f = new Fixtures(db.db().dsl());
            UUID acme = f.client("Acme");
            f.leads(acme, f.campaign(acme, 1), 1, 1);
            f.recount();
            Map<String, String> env = Map.of(
                    "DE_ENROLLMENT_PUSHGATEWAY_URL", failing.url("/").replace("http://", "http://push:Pu5hSecret@"),
                    "DE_ENROLLMENT_PING_URL", failing.url("/ping/9f1c-ping-token"),
                    "LOG_LEVEL", "trace");

            var captured = ProcessStreams.capture(() -> Cli.run(db, env, "run"));

            Cli.Result r = captured.value();
            assertThat(r.exitCode()).as("failing monitoring does not change the exit code").isZero();
            assertThat(captured.text()).as("the failures are logged").contains("metrics push to").contains("ping /0 to");
            assertThat(r.out() + r.err() + captured.text()).doesNotContain("Pu5hSecret").doesNotContain("9f1c-ping-token");
        }
    }
}
