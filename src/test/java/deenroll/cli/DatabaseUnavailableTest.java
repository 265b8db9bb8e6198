package deenroll.cli;

import deenroll.support.Query;
import deenroll.support.Cli;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Exit 4 is how the scheduler tells "the database is down / not migrated" from
 * "a client failed": one line, no stack trace, no password, and for a database
 * without the migrations, the fix (`deenroll migrate`) and no change at all.
 * health-check answers UNKNOWN (3) in both cases, as Nagios plugins do.
 */
class DatabaseUnavailableTest {

    // port 1 on the loopback: refused at once, nothing listens there
    private static final String UNREACHABLE_JDBC = "jdbc:postgresql://127.0.0.1:1/deenroll";
    private static final String PASSWORD = "S3cretPw";
    private static final String UNREACHABLE_WITH_PASSWORD = "postgres://deenroll:" + PASSWORD + "@127.0.0.1:1/app";

    @Test
    void runOnUnreachableDatabaseIsExit4WithOneLine() {
        var captured = ProcessStreams.capture(() -> Cli.run(Map.of("DATABASE_URL", UNREACHABLE_JDBC), "run"));

        Cli.Result r = captured.value();
        assertThat(r.exitCode()).isEqualTo(4);
        // one line on the process's stderr: the command's own line and no log lines or stack traces besides
        assertThat(Lines.of(r.err() + captured.stderr())).singleElement().asString()
                .contains("cannot connect").contains("127.0.0.1:1");
        assertThat(r.out() + captured.stdout()).isBlank();
    }

    @Test
    void bareCommandOnUnreachableDatabaseIsExit4() {
        Cli.Result r = Cli.run(Map.of("DATABASE_URL", UNREACHABLE_JDBC), "--all-clients");

        assertThat(r.exitCode()).isEqualTo(4);
        assertThat(Lines.of(r.err())).singleElement().asString().contains("cannot connect");
    }

    @Test
    void unreachableDatabaseMessageNeverShowsThePassword() {
        Cli.Result r = Cli.run(Map.of("DATABASE_URL", UNREACHABLE_WITH_PASSWORD), "run");

        assertThat(r.exitCode()).isEqualTo(4);
        assertThat(Lines.of(r.err())).singleElement().asString().contains("cannot connect");
        assertThat(r.out() + r.err()).doesNotContain(PASSWORD);
    }

    @Test
    void migrateOnUnreachableDatabaseIsExit4() {
        Cli.Result r = Cli.run(Map.of("DATABASE_URL", UNREACHABLE_WITH_PASSWORD), "migrate");

        assertThat(r.exitCode()).isEqualTo(4);
        assertThat(Lines.of(r.err())).singleElement().asString().contains("cannot connect");
        assertThat(r.out() + r.err()).doesNotContain(PASSWORD);
    }

    @Test
    void healthCheckOnUnreachableDatabaseIsUnknown() {
        Cli.Result command = Cli.run(Map.of("DATABASE_URL", UNREACHABLE_WITH_PASSWORD), "health-check");
        Cli.Result flag = Cli.run(Map.of("DATABASE_URL", UNREACHABLE_WITH_PASSWORD), "--health-check");

        for (Cli.Result r : new Cli.Result[] {command, flag}) {
            assertThat(r.exitCode()).isEqualTo(3);
            assertThat(r.out()).contains("UNKNOWN").contains("cannot connect");
            assertThat(r.out() + r.err()).doesNotContain(PASSWORD);
        }
    }

    @Test
    void runOnDatabaseWithoutMigrationsIsExit4NamingMigrateAndChangesNothing() {
        try (TestDatabase db = TestPostgres.get().hostOnly()) {
            hostDataWithAFinishedLead(db);
            String before = DbState.hostRows(db);

            var captured = ProcessStreams.capture(() -> Cli.run(db, "run"));

            Cli.Result r = captured.value();
            assertThat(r.exitCode()).isEqualTo(4);
            assertThat(Lines.of(r.err() + captured.stderr())).singleElement().asString().contains("deenroll migrate");
            assertThat(DbState.hostRows(db)).isEqualTo(before);
            assertThat(Query.value(db.db().dsl(), Boolean.class, "SELECT to_regclass('de_enrollment_runs') IS NULL AND to_regclass('flyway_schema_history') IS NULL")).as("run must not create any table").isTrue();
        }
    }

    @Test
    void manualRunOnDatabaseWithoutMigrationsIsExit4Too() {
        try (TestDatabase db = TestPostgres.get().hostOnly()) {
            UUID client = hostDataWithAFinishedLead(db);

            Cli.Result r = Cli.run(db, "--client-id=" + client);

            assertThat(r.exitCode()).isEqualTo(4);
            assertThat(r.err()).contains("deenroll migrate");
        }
    }

    @Test
    void healthCheckOnDatabaseWithoutMigrationsIsUnknown() {
        try (TestDatabase db = TestPostgres.get().hostOnly()) {
            hostDataWithAFinishedLead(db);

            Cli.Result r = Cli.run(db, "health-check");

            assertThat(r.exitCode()).isEqualTo(3);
            assertThat(r.out()).contains("UNKNOWN").contains("deenroll migrate");
        }
    }

    /** Host rows as the platform writes them, including a lead past its last message. */
    private static UUID hostDataWithAFinishedLead(TestDatabase db) {
        UUID client = UUID.randomUUID();
        UUID campaign = UUID.randomUUID();
        db.sql("INSERT INTO clients (id, name) VALUES ('" + client + "', 'Acme');"
                + "INSERT INTO campaigns (id, client_id, name, messages) VALUES ('" + campaign + "', '" + client
                + "', 'Spring', '[{\"step\":1,\"text\":\"hi\"}]');"
                + "INSERT INTO leads (id, client_id, campaign_link_id, current_message_position, last_message_at) VALUES ('"
                + UUID.randomUUID() + "', '" + client + "', '" + campaign + "', 1, now() - interval '2 days');");
        return client;
    }
}
