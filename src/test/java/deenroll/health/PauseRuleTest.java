package deenroll.health;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import deenroll.control.Pauses;
import deenroll.support.AlertReceiver;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * DESIGN §6 "paused / paused longer than 24 h", through `deenroll health-check`:
 * a pause is a WARNING, a CRITICAL once older than --max-pause-hours, and the
 * CRITICALs it causes by stopping the runs (no run in 2 hours, clients without
 * a recent success) are not raised while it lasts.
 */
@Tag("compat")
class PauseRuleTest {

    private TestDatabase db;
    private RunHistory runs;
    private UUID acme;

    @BeforeEach
    void oneClient() {
        db = TestPostgres.get().migrated();
        Fixtures fixtures = new Fixtures(db.db().dsl());
        runs = new RunHistory(db);
        acme = fixtures.client("Acme");
        fixtures.leads(acme, fixtures.campaign(acme, 3), 1, 3);
        fixtures.recount();
    }

    @AfterEach
    void drop() {
        db.close();
    }

    private Cli.Result health(String... options) {
        String[] args = new String[options.length + 1];
        args[0] = "health-check";
        System.arraycopy(options, 0, args, 1, options.length);
        return Cli.run(db, args);
    }

    private void pause(String reason, String age) {
        new Pauses(db.db().dsl()).pause("alice@ops1", reason);
        db.sql("UPDATE de_enrollment_pauses SET paused_at = now() - interval '" + age + "' WHERE resumed_at IS NULL");
    }

    @Test
    void aPauseIsAWarningThatSaysWhoAndWhy() {
        runs.finished(acme, "success", "5 minutes", 1);
        pause("restore from backup", "10 minutes");

        Cli.Result r = health();

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isEqualTo(1);
        assertThat(r.out().lines().skip(1).findFirst().orElseThrow()).as("the pause comes first")
                .startsWith("⚠️ ⏸ De-enrollment paused since ")
                .contains(" by alice@ops1: restore from backup — 1 active client(s) waiting");
        assertThat(r.out()).doesNotContain("❌").doesNotContain("not raised while paused");
    }

    @Test
    void noRunForHoursIsExplainedByThePauseNotCritical() {
        runs.finished(acme, "success", "3 hours", 1);
        assertThat(health().exitCode()).as("unpaused, this is CRITICAL").isEqualTo(2);
        pause("incident INC-7", "3 hours");

        Cli.Result r = health();

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isEqualTo(1);
        assertThat(r.out()).doesNotContain("❌").doesNotContain("No de-enrollment run in the last")
                .doesNotContain("hasn't run successfully")
                .contains("not raised while paused: no run in the last 2 hours and 1 client(s) without a success in more than 2 h");
    }

    @Test
    void aPauseDoesNotHideAnOutageThatBeganBeforeIt() {
        runs.finished(acme, "success", "5 hours", 1);
        pause("incident INC-8", "1 hour");

        Cli.Result r = health();

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isEqualTo(2);
        assertThat(r.out()).contains("⏸ De-enrollment paused since ")
                .contains("❌ No de-enrollment run in the last 2 hours")
                .contains("❌ Client Acme (" + acme + ") hasn't run successfully in 5 hours")
                .doesNotContain("not raised while paused");
    }

    @Test
    void noRunEverIsNotHiddenByAPause() {
        pause("not yet", "1 minute");

        Cli.Result r = health();

        assertThat(r.exitCode()).as("no run was ever recorded, paused or not; stdout: %s", r.out()).isEqualTo(2);
        assertThat(r.out()).contains("❌ No de-enrollment run has ever been recorded");
    }

    @Test
    void aPauseOlderThan24HoursIsCritical() {
        runs.finished(acme, "success", "5 minutes", 1);
        pause("forgotten", "25 hours");

        Cli.Result r = health();

        assertThat(r.exitCode()).as("stdout: %s", r.out()).isEqualTo(2);
        assertThat(r.out()).contains("❌ ⏸ De-enrollment paused for 25 h, longer than 24 hours, since ")
                .contains("by alice@ops1: forgotten");
    }

    @Test
    void maxPauseHoursSetsWhenAPauseBecomesCritical() {
        runs.finished(acme, "success", "5 minutes", 1);
        pause("long maintenance", "25 hours");

        assertThat(health("--max-pause-hours", "48").exitCode()).isEqualTo(1);
        db.sql("UPDATE de_enrollment_pauses SET paused_at = now() - interval '2 hours'");
        assertThat(health().exitCode()).isEqualTo(1);
        assertThat(health("--max-pause-hours", "1").exitCode()).isEqualTo(2);
        assertThat(health("--max-pause-hours", "-1").exitCode()).as("a bad value is UNKNOWN").isEqualTo(3);
    }

    @Test
    void otherRulesStillFireWhilePaused() {
        runs.finished(acme, "success", "10 minutes", 1);
        runs.finished(acme, "failed", "1 hour", 1);
        pause("x", "5 minutes");

        Cli.Result r = health();

        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).contains("⚠️ Success rate in the last 24h is 50.0%");
    }

    @Test
    void jsonCarriesThePauseAndNagiosLeadsWithIt() throws Exception {
        runs.finished(acme, "success", "5 minutes", 1);
        JsonNode before = new ObjectMapper().readTree(health("--output", "json").out());
        assertThat(before.path("metrics").has("paused")).isTrue();
        assertThat(before.path("metrics").path("paused").isNull()).isTrue();
        pause("db maintenance", "10 minutes");

        JsonNode doc = new ObjectMapper().readTree(health("--output", "json").out());
        Cli.Result nagios = health("--format", "nagios");

        assertThat(doc.path("status").asText()).isEqualTo("WARNING");
        assertThat(doc.path("metrics").path("paused").path("pausedBy").asText()).isEqualTo("alice@ops1");
        assertThat(doc.path("metrics").path("paused").path("reason").asText()).isEqualTo("db maintenance");
        assertThat(doc.path("metrics").path("paused").path("pausedAt").asText()).isNotBlank();
        assertThat(doc.path("findings").get(0).path("rule").asText()).isEqualTo("paused");
        assertThat(doc.path("findings").get(0).path("level").asText()).isEqualTo("WARNING");
        assertThat(nagios.exitCode()).isEqualTo(1);
        assertThat(nagios.out().lines().findFirst().orElseThrow()).startsWith("WARNING: ⏸ De-enrollment paused since ");
    }

    @Test
    void theAlertSaysPausedAndThatResumeEndsIt() throws Exception {
        runs.finished(acme, "success", "5 minutes", 1);
        pause("db maintenance", "10 minutes");
        try (AlertReceiver receiver = new AlertReceiver()) {
            Cli.run(db, Map.of("DE_ENROLLMENT_ALERT_WEBHOOK", receiver.url()), "health-check");

            assertThat(receiver.bodies()).hasSize(1);
            JsonNode alert = new ObjectMapper().readTree(receiver.bodies().get(0));
            assertThat(alert.path("severity").asText()).isEqualTo("warning");
            assertThat(alert.path("message").asText()).contains("⏸ De-enrollment paused since ");
            assertThat(alert.path("details").path("nextStep").asText()).startsWith("deenroll resume ends the pause");
        }
    }

    @Test
    void afterResumeTheRulesAreBack() {
        runs.finished(acme, "success", "3 hours", 1);
        pause("short", "3 hours");
        assertThat(health().exitCode()).isEqualTo(1);

        new Pauses(db.db().dsl()).resume("alice@ops1");

        Cli.Result r = health();
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.out()).contains("❌ No de-enrollment run in the last 2 hours").doesNotContain("paused");
    }
}
