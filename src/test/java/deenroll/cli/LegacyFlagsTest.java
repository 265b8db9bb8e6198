package deenroll.cli;

import deenroll.support.Query;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The old script was called as `... --all-clients | --client-id=<uuid> | --health-check`;
 * n8n workflows and cron lines still say exactly that, so the bare command must
 * take those flags and do what they did (DESIGN §2: drop-in replacement).
 */
class LegacyFlagsTest {

    private TestDatabase db;
    private Fixtures fixtures;
    private UUID acme;
    private UUID beta;

    @BeforeEach
    void twoClientsWithFinishedLeads() {
        db = TestPostgres.get().migrated();
        fixtures = new Fixtures(db.db().dsl());
        acme = fixtures.client("Acme");
        fixtures.leads(acme, fixtures.campaign(acme, 3), 3, 4);
        beta = fixtures.client("Beta");
        fixtures.leads(beta, fixtures.campaign(beta, 2), 2, 3);
        fixtures.recount();
    }

    @AfterEach
    void drop() {
        db.close();
    }

    @Test
    void allClientsDeEnrollsEveryClientAsAScheduledRun() {
        Cli.Result r = Cli.run(db, "--all-clients");

        assertThat(r.exitCode()).as("stderr: %s", r.err()).isZero();
        assertThat(fixtures.eligible()).isZero();
        assertThat(completed()).isEqualTo(7);
        assertThat(runTypes()).containsExactlyInAnyOrder("scheduled:" + acme, "scheduled:" + beta);
        assertThat(fixtures.drift()).isZero();
    }

    @Test
    void bareCommandWithoutFlagsIsAllClients() {
        Cli.Result r = Cli.run(db);

        assertThat(r.exitCode()).as("stderr: %s", r.err()).isZero();
        assertThat(completed()).isEqualTo(7);
        assertThat(runTypes()).containsExactlyInAnyOrder("scheduled:" + acme, "scheduled:" + beta);
    }

    @Test
    void clientIdWithEqualsSignDeEnrollsOnlyThatClientAsAManualRun() {
        Cli.Result r = Cli.run(db, "--client-id=" + acme);

        assertThat(r.exitCode()).as("stderr: %s", r.err()).isZero();
        assertThat(completedOf(acme)).isEqualTo(4);
        assertThat(completedOf(beta)).as("the other client is left alone").isZero();
        assertThat(fixtures.eligible()).isEqualTo(3);
        assertThat(runTypes()).containsExactly("manual:" + acme);
    }

    @Test
    void healthCheckFlagPrintsTheHealthLinesWithNagiosExitCodeOk() {
        assertThat(Cli.run(db, "--all-clients").exitCode()).isZero();

        Cli.Result r = Cli.run(db, "--health-check");

        assertThat(r.exitCode()).as("stdout: %s%nstderr: %s", r.out(), r.err()).isZero();
        assertThat(r.out()).contains("De-enrollment health: OK")
                .contains("✅ All clients processed successfully in last 24h");
        assertThat(completed()).as("--health-check must not run the de-enrollment").isEqualTo(7);
    }

    @Test
    void healthCheckFlagWithoutAnyRunIsCritical() {
        Cli.Result r = Cli.run(db, "--health-check");

        assertThat(r.exitCode()).as("stdout: %s%nstderr: %s", r.out(), r.err()).isEqualTo(2);
        assertThat(r.out()).contains("De-enrollment health: CRITICAL").contains("❌");
        assertThat(completed()).as("--health-check must not run the de-enrollment").isZero();
    }

    private int completed() {
        return Query.value(db.db().dsl(), Integer.class, "SELECT count(*)::int FROM leads WHERE completed_at IS NOT NULL");
    }

    private int completedOf(UUID client) {
        return Query.value(db.db().dsl(), Integer.class, "SELECT count(*)::int FROM leads WHERE completed_at IS NOT NULL AND client_id = ?", client);
    }

    private List<String> runTypes() {
        return db.db().dsl().fetch("SELECT run_type || ':' || client_id FROM de_enrollment_runs").getValues(0, String.class);
    }
}
