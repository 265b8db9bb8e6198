package deenroll.cli;

import deenroll.support.Query;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A bad value is exit 2 and one line on stderr naming the option or variable,
 * and — the point of validating first — nothing in the database changes, even
 * though it holds leads that a real run would de-enroll.
 */
class UsageErrorsTest {

    private static final String INJECTION = "x'; DROP TABLE leads;--";

    private TestDatabase db;
    private UUID clientA;

    @BeforeEach
    void databaseWithEligibleLeads() {
        db = TestPostgres.get().migrated();
        Fixtures f = new Fixtures(db.db().dsl());
        clientA = f.client("Acme");
        UUID campaignA = f.campaign(clientA, 3);
        f.leads(clientA, campaignA, 3, 3);
        f.leads(clientA, campaignA, 1, 2);
        UUID clientB = f.client("Beta");
        f.leads(clientB, f.campaign(clientB, 2), 5, 2);
        f.recount();
        assertThat(f.eligible()).as("precondition: work a real run would do").isEqualTo(5);
    }

    @AfterEach
    void drop() {
        db.close();
    }

    static Stream<Arguments> badInvocations() {
        return Stream.of(
                Arguments.of(Map.of(), List.of("run", "--client-id", "not-a-uuid"), "--client-id"),
                Arguments.of(Map.of(), List.of("run", "--client-id", INJECTION), "--client-id"),
                Arguments.of(Map.of(), List.of("--client-id=" + INJECTION), "--client-id"),
                Arguments.of(Map.of("DE_ENROLLMENT_BATCH_SIZE", "abc"), List.of("run"), "DE_ENROLLMENT_BATCH_SIZE"),
                Arguments.of(Map.of("DE_ENROLLMENT_BATCH_SIZE", "-5"), List.of("run"), "DE_ENROLLMENT_BATCH_SIZE"),
                Arguments.of(Map.of("DE_ENROLLMENT_BATCH_SIZE", "abc"), List.of(), "DE_ENROLLMENT_BATCH_SIZE"),
                Arguments.of(Map.of("DE_ENROLLMENT_MAX_RUNTIME", "0"), List.of("run"), "DE_ENROLLMENT_MAX_RUNTIME"),
                Arguments.of(Map.of(), List.of("run", "--batch-size", "10001"), "--batch-size"),
                Arguments.of(Map.of(), List.of("run", "--database-url", "postgres://nohost"), "--database-url"),
                Arguments.of(Map.of("LOG_LEVEL", "verbose"), List.of("run"), "LOG_LEVEL"),
                Arguments.of(Map.of("DE_ENROLLMENT_ALERT_WEBHOOK", "ftp://hooks.example.com/x"), List.of("run"),
                        "DE_ENROLLMENT_ALERT_WEBHOOK"),
                Arguments.of(Map.of(), List.of("run", "--output", "yaml"), "--output"),
                Arguments.of(Map.of(), List.of("run", "--no-such-option"), "--no-such-option"),
                Arguments.of(Map.of(), List.of("explain", "not-a-uuid"), "LEAD_ID"),
                Arguments.of(Map.of(), List.of("explain", INJECTION), "LEAD_ID"),
                Arguments.of(Map.of(), List.of("explain"), "LEAD_ID"));
    }

    @ParameterizedTest(name = "[{index}] {1} with {0}")
    @MethodSource("badInvocations")
    void badValueIsExit2OneLineNamingItAndNothingChanges(Map<String, String> env, List<String> args, String named) {
        DbState before = DbState.of(db);

        var captured = ProcessStreams.capture(() -> Cli.run(db, env, args.toArray(String[]::new)));

        Cli.Result r = captured.value();
        assertThat(r.exitCode()).as("exit code; stderr: %s", r.err()).isEqualTo(2);
        // the process's whole stderr is that one line: no log lines, no stack trace
        assertThat(Lines.of(r.err() + captured.stderr())).singleElement().asString().contains(named);
        assertThat(r.out() + captured.stdout()).as("stdout carries results only").isBlank();
        assertThat(DbState.of(db)).isEqualTo(before);
    }

    static Stream<Arguments> badHealthChecks() {
        return Stream.of(
                Arguments.of(Map.of("LOG_LEVEL", "verbose"), List.of("health-check"), "LOG_LEVEL"),
                Arguments.of(Map.of("LOG_LEVEL", "verbose"), List.of("--health-check"), "LOG_LEVEL"),
                Arguments.of(Map.of(), List.of("health-check", "--database-url", "mysql://h/db"), "--database-url"),
                Arguments.of(Map.of(), List.of("health-check", "--stuck-warning", "abc"), "--stuck-warning"),
                Arguments.of(Map.of(), List.of("health-check", "--stuck-warning", "10", "--stuck-critical", "5"),
                        "--stuck-critical"),
                Arguments.of(Map.of(), List.of("health-check", "-w", "stuck_leads=10:5"), "-w stuck_leads"),
                Arguments.of(Map.of(), List.of("health-check", "-c", "stuck_leads=lots"), "-c stuck_leads"),
                Arguments.of(Map.of(), List.of("health-check", "-w", "stuck=10"), "-w stuck"),
                Arguments.of(Map.of(), List.of("health-check", "-w", "paused_hours=1"), "-w paused_hours"),
                Arguments.of(Map.of(), List.of("health-check", "-w", "stuck_leads=10", "--stuck-warning", "20"),
                        "--stuck-warning"),
                Arguments.of(Map.of(), List.of("health-check", "-w", "success_rate_24h=90:", "-c", "success_rate_24h=95:"),
                        "-c success_rate_24h"),
                Arguments.of(Map.of(), List.of("health-check", "-t", "0"), "--timeout"),
                Arguments.of(Map.of(), List.of("health-check", "-t", "soon"), "-t"),
                Arguments.of(Map.of("DE_ENROLLMENT_ALERT_WEBHOOK", "ftp://h/x"), List.of("health-check"),
                        "DE_ENROLLMENT_ALERT_WEBHOOK"));
    }

    @ParameterizedTest(name = "[{index}] {1} with {0}")
    @MethodSource("badHealthChecks")
    void badHealthCheckValueIsUnknownWithOneLineNamingIt(Map<String, String> env, List<String> args, String named) {
        // a monitoring system reads 3 as UNKNOWN; 2 would page someone for CRITICAL
        DbState before = DbState.of(db);

        Cli.Result r = Cli.run(db, env, args.toArray(String[]::new));

        assertThat(r.exitCode()).as("exit code; stderr: %s", r.err()).isEqualTo(3);
        assertThat(Lines.of(r.err())).singleElement().asString().contains(named);
        assertThat(DbState.of(db)).isEqualTo(before);
    }

    @Test
    void malformedDatabaseUrlInTheEnvironmentIsExit2NamingIt() {
        DbState before = DbState.of(db);

        Cli.Result r = Cli.run(Map.of("DATABASE_URL", "postgres://user:S3cretPw@:5432"), "run");

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(Lines.of(r.err())).singleElement().asString().contains("DATABASE_URL").doesNotContain("S3cretPw");
        assertThat(DbState.of(db)).isEqualTo(before);
    }

    @Test
    void sqlInjectionAsClientIdLeavesTheLeadsTableInPlace() {
        Cli.Result r = Cli.run(db, "run", "--client-id", INJECTION);

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(Query.value(db.db().dsl(), Boolean.class, "SELECT to_regclass('leads') IS NOT NULL")).isTrue();
    }

    @Test
    void unknownClientIsExit2WithAClearLine() {
        UUID unknown = UUID.randomUUID();
        DbState before = DbState.of(db);

        Cli.Result r = Cli.run(db, "run", "--client-id", unknown.toString());

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(Lines.of(r.err())).singleElement().asString()
                .contains("--client-id").contains(unknown.toString()).contains("no client");
        assertThat(DbState.of(db)).isEqualTo(before);
    }

    @Test
    void clientIdTogetherWithAllClientsIsExit2() {
        DbState before = DbState.of(db);

        Cli.Result r = Cli.run(db, "run", "--client-id", clientA.toString(), "--all-clients");
        Cli.Result bare = Cli.run(db, "--all-clients", "--client-id=" + clientA);

        for (Cli.Result result : List.of(r, bare)) {
            assertThat(result.exitCode()).isEqualTo(2);
            assertThat(Lines.of(result.err())).singleElement().asString()
                    .contains("--client-id").contains("--all-clients");
        }
        assertThat(DbState.of(db)).isEqualTo(before);
    }

    @Test
    void emptyVariablesAreIgnoredNotRejected() {
        // an n8n node passes unset variables as ""; that must behave like unset, not like a bad value
        Map<String, String> env = new HashMap<>();
        env.put("DE_ENROLLMENT_BATCH_SIZE", "");
        env.put("DE_ENROLLMENT_MAX_RUNTIME", "");
        env.put("LOG_LEVEL", "");
        env.put("DE_ENROLLMENT_ALERT_WEBHOOK", "");

        Cli.Result r = Cli.run(db, env, "run");

        assertThat(r.exitCode()).as("stderr: %s", r.err()).isZero();
        assertThat(new Fixtures(db.db().dsl()).eligible()).isZero();
    }
}
