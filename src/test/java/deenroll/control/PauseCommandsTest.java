package deenroll.control;

import com.fasterxml.jackson.databind.JsonNode;
import deenroll.support.Cli;
import deenroll.support.Query;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.OffsetDateTime;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `deenroll pause --reason` / `deenroll resume`: the pause is one row in the
 * database, shared by every host; pausing twice keeps the first pause, and
 * resuming when nothing is paused is no error.
 */
class PauseCommandsTest {

    private TestDatabase db;

    @BeforeEach
    void migrated() {
        db = TestPostgres.get().migrated();
    }

    @AfterEach
    void drop() {
        db.close();
    }

    private int openPauses() {
        return Query.value(db.db().dsl(), Integer.class,
                "SELECT count(*)::int FROM de_enrollment_pauses WHERE resumed_at IS NULL");
    }

    @Test
    void pauseThenResumeInText() {
        Cli.Result paused = Cli.run(db, "pause", "--reason", "restore from backup, OPS-123");

        assertThat(paused.exitCode()).as("stderr: %s", paused.err()).isZero();
        String who = System.getProperty("user.name") + "@";
        assertThat(paused.out().lines().findFirst().orElseThrow())
                .startsWith("⏸ de-enrollment paused at ")
                .contains(" by " + who)
                .endsWith(": restore from backup, OPS-123");
        assertThat(paused.out()).contains("runs in flight stop at their next batch and close their runs partial")
                .contains("new runs exit 0 with status \"paused\" until `deenroll resume`");
        assertThat(openPauses()).isEqualTo(1);
        assertThat(new Pauses(db.db().dsl()).current()).get()
                .satisfies(p -> assertThat(p.reason()).isEqualTo("restore from backup, OPS-123"))
                .satisfies(p -> assertThat(p.pausedBy()).startsWith(who));

        Cli.Result resumed = Cli.run(db, "resume");

        assertThat(resumed.exitCode()).as("stderr: %s", resumed.err()).isZero();
        assertThat(resumed.out()).contains("de-enrollment resumed: it was paused since ")
                .contains(" by " + who).contains("(reason: restore from backup, OPS-123)")
                .contains("runs resume with the next scheduled invocation");
        assertThat(openPauses()).isZero();
        assertThat(Query.value(db.db().dsl(), String.class, "SELECT resumed_by FROM de_enrollment_pauses"))
                .startsWith(who);
    }

    @Test
    void pauseThenResumeInJson() {
        JsonNode paused = Json.of(Cli.run(db, "pause", "--reason", "db maintenance", "--output", "json"));

        assertThat(paused.path("new").asBoolean()).isTrue();
        assertThat(paused.path("paused").path("reason").asText()).isEqualTo("db maintenance");
        assertThat(paused.path("paused").path("pausedBy").asText()).startsWith(System.getProperty("user.name") + "@");
        OffsetDateTime pausedAt = OffsetDateTime.parse(paused.path("paused").path("pausedAt").asText());
        assertThat(paused.path("paused").size()).as("exactly pausedAt, pausedBy, reason").isEqualTo(3);

        JsonNode resumed = Json.of(Cli.run(db, "resume", "--output", "json"));

        assertThat(resumed.path("resumed").path("reason").asText()).isEqualTo("db maintenance");
        assertThat(OffsetDateTime.parse(resumed.path("resumed").path("pausedAt").asText())).isEqualTo(pausedAt);
        assertThat(openPauses()).isZero();
    }

    @Test
    void pausingTwiceKeepsTheFirstPause() {
        assertThat(Cli.run(db, "pause", "--reason", "first").exitCode()).isZero();

        Cli.Result again = Cli.run(db, "pause", "--reason", "second");
        JsonNode againJson = Json.of(Cli.run(db, "pause", "--reason", "third", "--output", "json"));

        assertThat(again.exitCode()).as("stderr: %s", again.err()).isZero();
        assertThat(again.out()).startsWith("⏸ de-enrollment is already paused since ")
                .contains("(reason: first); left as it is");
        assertThat(againJson.path("new").asBoolean()).isFalse();
        assertThat(againJson.path("paused").path("reason").asText()).isEqualTo("first");
        assertThat(Query.value(db.db().dsl(), Integer.class, "SELECT count(*)::int FROM de_enrollment_pauses"))
                .as("no second pause row").isEqualTo(1);
        assertThat(Query.value(db.db().dsl(), String.class, "SELECT reason FROM de_enrollment_pauses")).isEqualTo("first");
    }

    @Test
    void resumeWhenNotPausedSaysSoAndExitsZero() {
        Cli.Result text = Cli.run(db, "resume");
        JsonNode json = Json.of(Cli.run(db, "resume", "--output", "json"));

        assertThat(text.exitCode()).as("stderr: %s", text.err()).isZero();
        assertThat(text.out().strip()).isEqualTo("de-enrollment is not paused; nothing to resume");
        assertThat(json.has("resumed")).isTrue();
        assertThat(json.path("resumed").isNull()).isTrue();
    }

    @Test
    void aBlankOrMissingReasonIsAUsageErrorAndPausesNothing() {
        for (String[] args : new String[][]{{"pause", "--reason", "   "}, {"pause", "--reason", ""}, {"pause"}}) {
            Cli.Result r = Cli.run(db, args);

            assertThat(r.exitCode()).as("%s: stderr %s", String.join(" ", args), r.err()).isEqualTo(2);
            assertThat(r.err().lines().toList()).as("one line").hasSize(1);
            assertThat(r.err()).contains("--reason");
            assertThat(r.out()).isEmpty();
        }
        assertThat(openPauses()).isZero();
    }

    @Test
    void anUnreachableOrUnmigratedDatabaseIsExit4() {
        Map<String, String> unreachable = Map.of("DATABASE_URL", "postgres://deenroll:S3cretPw@127.0.0.1:1/app");
        try (TestDatabase bare = TestPostgres.get().hostOnly()) {
            for (String[] args : new String[][]{{"pause", "--reason", "x"}, {"resume"}, {"status"}}) {
                Cli.Result down = Cli.run(unreachable, args);
                Cli.Result unmigrated = Cli.run(bare, args);

                assertThat(down.exitCode()).as("%s, database down: %s", args[0], down.err()).isEqualTo(4);
                assertThat(down.err().lines().toList()).singleElement().asString().contains("cannot connect");
                assertThat(down.out() + down.err()).doesNotContain("S3cretPw");
                assertThat(unmigrated.exitCode()).as("%s, not migrated: %s", args[0], unmigrated.err()).isEqualTo(4);
                assertThat(unmigrated.err()).contains("deenroll migrate");
            }
        }
    }
}
