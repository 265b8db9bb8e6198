package deenroll.db;

import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * db/roles/deenroll_worker.sql, logged in as the worker on every PostgreSQL
 * the compat runs use (12, where PUBLIC may still create in the public schema,
 * and 18): the job's commands work, and the worker cannot create a table, alter
 * one, or call a host function revoked from PUBLIC.
 */
@Tag("compat")
class WorkerRoleTest {

    private static final Path SCRIPT = Path.of("db/roles/deenroll_worker.sql");

    private static String workerUrl(TestDatabase db) {
        return db.jdbcUrl().replace("user=postgres", "user=deenroll_worker");
    }

    private static void asWorker(TestDatabase db, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(workerUrl(db)); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** The database after the role script, as a platform that revoked one of its functions from PUBLIC has it. */
    private static TestDatabase withWorker() throws IOException {
        TestDatabase db = TestPostgres.get().migrated();
        db.sql("CREATE FUNCTION host_billing_secret() RETURNS text LANGUAGE sql AS $$ SELECT 'secret' $$;"
                + " REVOKE EXECUTE ON FUNCTION host_billing_secret() FROM PUBLIC;"
                + " DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'deenroll_worker') THEN"
                + " CREATE ROLE deenroll_worker LOGIN; END IF; END $$;"
                // what the script's earlier version granted: every routine of the schema
                + " GRANT EXECUTE ON ALL ROUTINES IN SCHEMA public TO deenroll_worker;"
                // what PostgreSQL 14 and earlier give PUBLIC (a no-op where it is already so)
                + " GRANT CREATE ON SCHEMA public TO PUBLIC;");
        db.sql(Files.readString(SCRIPT));
        return db;
    }

    @Test
    void theWorkerRunsHealthChecksAndReadsStatusAndExplain() throws IOException {
        try (TestDatabase db = withWorker()) {
            Fixtures f = new Fixtures(db.db().dsl());
            UUID client = f.client("Acme");
            UUID campaign = f.campaign(client, 2);
            f.leads(client, campaign, 2, 5);
            UUID lead = f.lead(client, campaign, 1);
            f.recount();
            Map<String, String> env = Map.of("DATABASE_URL", workerUrl(db));

            Cli.Result run = Cli.run(env, "run");
            Cli.Result health = Cli.run(env, "health-check");
            Cli.Result status = Cli.run(env, "status");
            Cli.Result explain = Cli.run(env, "explain", lead.toString());

            assertThat(run.exitCode()).as(run.err()).isZero();
            assertThat(f.eligible()).isZero();
            assertThat(health.exitCode()).as(health.out() + health.err()).isZero();
            assertThat(status.exitCode()).as(status.err()).isZero();
            assertThat(status.out()).contains("no invocation running");
            assertThat(explain.exitCode()).as(explain.err()).isZero();
            assertThat(explain.out()).contains("Next run: leaves it as it is: not eligible");
        }
    }

    @Test
    void theWorkerCannotCreateATableAlterOneOrCallAHostFunctionRevokedFromPublic() throws IOException {
        try (TestDatabase db = withWorker()) {
            assertThatThrownBy(() -> asWorker(db, "CREATE TABLE leads_backup_20991231 (id uuid)"))
                    .hasMessageContaining("permission denied for schema public");
            assertThatThrownBy(() -> asWorker(db, "ALTER TABLE leads ADD COLUMN note text"))
                    .hasMessageContaining("must be owner");
            assertThatThrownBy(() -> asWorker(db, "SELECT host_billing_secret()"))
                    .hasMessageContaining("permission denied for function host_billing_secret");
        }
    }

    /**
     * The script names deenroll's routines one by one: a routine added by a migration must be added there too.
     * Checked where PUBLIC may execute nothing, as on a platform that revokes it: otherwise PUBLIC's default
     * grant hides a routine the script forgot (three did, from 0032, until the check was made this way).
     */
    @Test
    void theWorkerMayExecuteEveryRoutineInDbRoutines() throws IOException {
        try (TestDatabase db = withWorker(); Stream<Path> files = Files.list(Path.of("db/routines"))) {
            db.sql("REVOKE EXECUTE ON ALL ROUTINES IN SCHEMA public FROM PUBLIC");
            db.sql(Files.readString(SCRIPT));
            List<String> routines = files.map(p -> p.getFileName().toString().replace(".sql", "")).sorted().toList();
            assertThat(routines).isNotEmpty();
            for (String routine : routines) {
                List<Boolean> granted = db.db().dsl().fetch("SELECT has_function_privilege('deenroll_worker', p.oid, 'EXECUTE')"
                        + " FROM pg_proc p WHERE p.proname = ? AND p.pronamespace = 'public'::regnamespace", routine)
                        .getValues(0, Boolean.class);
                assertThat(granted).as(routine).isNotEmpty().containsOnly(true);
            }
        }
    }
}
