package deenroll.db;

import deenroll.support.Query;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * DESIGN §3: each migration also runs with `psql -f`. Executed here as plain SQL
 * (no Flyway) in order, V19 to the newest, on the host schema, they must give the same
 * schema and functions as Flyway does, and the tool must work on the result.
 */
@Tag("compat")
class MigrationPlainSqlTest {

    private static void applyPlain(TestDatabase db) {
        MigrationFiles.versions().forEach(version -> db.sql(MigrationFiles.migration(version)));
    }

    @Test
    void plainSqlGivesTheSameSchemaAsFlyway() {
        try (TestDatabase plain = TestPostgres.get().hostOnly(); TestDatabase flyway = TestPostgres.get().migrated()) {
            applyPlain(plain);

            SchemaShape expected = SchemaShape.of(flyway.db().dsl());
            SchemaShape actual = SchemaShape.of(plain.db().dsl());

            assertThat(actual.columns()).containsExactlyElementsOf(expected.columns());
            assertThat(actual.functions()).containsExactlyElementsOf(expected.functions())
                    .anyMatch(f -> f.startsWith("get_leads_for_de_enrollment("))
                    .anyMatch(f -> f.startsWith("process_de_enrollment_batch("));
            assertThat(actual.views()).containsExactlyElementsOf(expected.views()).contains("de_enrollment_health");
            assertThat(actual.indexes()).containsExactlyElementsOf(expected.indexes());
            assertThat(actual.constraints()).containsExactlyElementsOf(expected.constraints());
        }
    }

    @Test
    void plainSqlOnHostDataComputesCountersAndTemplatesLikeFlyway() {
        try (TestDatabase plain = TestPostgres.get().hostOnly()) {
            HostData data = HostData.loadInto(plain);

            applyPlain(plain);

            Fixtures f = new Fixtures(plain.db().dsl());
            assertThat(f.drift()).isZero();
            assertThat(f.eligible()).isEqualTo(HostData.ELIGIBLE_AFTER_MIGRATION);
            assertThat(Query.value(plain.db().dsl(), String.class, "SELECT messages->0->>'text' FROM campaigns WHERE id = ?", data.templateOnly)).isEqualTo(HostData.TEMPLATE_ONLY_TEXT);
            assertThat(Query.value(plain.db().dsl(), Integer.class, "SELECT count(*) FROM leads WHERE completed_at IS NOT NULL")).isZero();
        }
    }

    @Test
    void eachFileRunsTwiceWithoutHarm() {
        // the files say they are idempotent: an operator re-running `psql -f` must not break anything
        try (TestDatabase plain = TestPostgres.get().hostOnly()) {
            HostData.loadInto(plain);
            applyPlain(plain);
            SchemaShape once = SchemaShape.of(plain.db().dsl());

            applyPlain(plain);

            assertThat(SchemaShape.of(plain.db().dsl())).isEqualTo(once);
            assertThat(new Fixtures(plain.db().dsl()).drift()).isZero();
        }
    }

    @Test
    void toolWorksOnAPlainSqlMigratedDatabase() {
        try (TestDatabase plain = TestPostgres.get().hostOnly()) {
            applyPlain(plain);
            Fixtures f = new Fixtures(plain.db().dsl());
            UUID client = f.client("Acme");
            f.leads(client, f.campaign(client, 2), 2, 4);
            f.recount();

            Cli.Result run = Cli.run(plain, "run");

            assertThat(run.exitCode()).as("run: %s", run.err()).isZero();
            assertThat(f.eligible()).isZero();
            assertThat(f.drift()).isZero();
        }
    }

    @Test
    void migrateAfterPlainSqlAdoptsTheDatabaseWithoutChangingData() {
        // an operator applied the files with psql, then switches to `deenroll migrate`
        try (TestDatabase plain = TestPostgres.get().hostOnly()) {
            HostData.loadInto(plain);
            applyPlain(plain);
            String rows = Query.value(plain.db().dsl(), String.class, "SELECT string_agg(l::text, E'\\n' ORDER BY id) FROM leads l");

            Cli.Result r = Cli.run(plain, "migrate");

            assertThat(r.exitCode()).as("migrate: %s", r.err()).isZero();
            assertThat(Query.value(plain.db().dsl(), String.class, "SELECT string_agg(l::text, E'\\n' ORDER BY id) FROM leads l")).isEqualTo(rows);
            assertThat(new Fixtures(plain.db().dsl()).drift()).isZero();
        }
    }
}
