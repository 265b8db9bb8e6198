package deenroll.cli;

import deenroll.support.Query;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * n8n parses stdout of `--output json` as one JSON document: anything else on
 * stdout (a log line, a banner, a second document) breaks the workflow, and the
 * numbers in it must be the ones the database ends up with.
 */
class JsonOutputTest {

    // trailing tokens fail the parse: stdout must be exactly one document
    private static final ObjectReader ONE_DOCUMENT = new ObjectMapper().readerFor(JsonNode.class)
            .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private TestDatabase db;
    private Fixtures fixtures;
    private UUID acme;

    @BeforeEach
    void leadsWithEveryOutcome() {
        db = TestPostgres.get().migrated();
        fixtures = new Fixtures(db.db().dsl());
        acme = fixtures.client("Acme");
        UUID campaign = fixtures.campaign(acme, 2);
        fixtures.leads(acme, campaign, 2, 3);                 // completed
        fixtures.lead(acme, campaign, 2, true, false);        // booked
        fixtures.lead(acme, campaign, 3, false, true);        // opted out
        fixtures.leads(acme, campaign, 1, 2);                 // still in the sequence
        UUID beta = fixtures.client("Beta");
        fixtures.leads(beta, fixtures.campaign(beta, 1), 1, 2);
        fixtures.recount();
    }

    @AfterEach
    void drop() {
        db.close();
    }

    @Test
    void runPrintsOneDocumentWhoseTotalsMatchTheDatabase() throws Exception {
        var captured = ProcessStreams.capture(() -> Cli.run(db, "run", "--output", "json"));

        Cli.Result r = captured.value();
        assertThat(r.exitCode()).as("stderr: %s", r.err()).isZero();
        assertThat(captured.stdout()).as("nothing but the document reaches the process's stdout").isEmpty();
        JsonNode doc = ONE_DOCUMENT.readValue(r.out());
        int completedInDb = Query.value(db.db().dsl(), Integer.class, "SELECT count(*)::int FROM leads WHERE completed_at IS NOT NULL");
        assertThat(completedInDb).isEqualTo(7);
        assertThat(doc.path("status").asText()).isEqualTo("success");
        assertThat(doc.path("exitCode").isInt()).isTrue();
        assertThat(doc.path("exitCode").asInt()).isEqualTo(r.exitCode());
        assertThat(doc.path("totals").path("leadsDeEnrolled").asInt()).isEqualTo(completedInDb);
        assertThat(doc.path("totals").path("byOutcome").path("completed").asInt()).isEqualTo(5);
        assertThat(doc.path("totals").path("byOutcome").path("booked").asInt()).isEqualTo(1);
        assertThat(doc.path("totals").path("byOutcome").path("opted_out").asInt()).isEqualTo(1);
        assertThat(doc.path("clients").size()).isEqualTo(2);
        int runRows = Query.value(db.db().dsl(), Integer.class, "SELECT sum(leads_de_enrolled)::int FROM de_enrollment_runs");
        assertThat(runRows).as("run rows agree with the document").isEqualTo(completedInDb);
    }

    @Test
    void manualRunJsonNamesTheOneClient() throws Exception {
        Cli.Result r = Cli.run(db, "run", "--client-id", acme.toString(), "--output", "json");

        JsonNode doc = ONE_DOCUMENT.readValue(r.out());
        assertThat(doc.path("runType").asText()).isEqualTo("manual");
        assertThat(doc.path("clients").size()).isEqualTo(1);
        assertThat(doc.path("clients").get(0).path("clientId").asText()).isEqualTo(acme.toString());
        assertThat(doc.path("totals").path("leadsDeEnrolled").asInt()).isEqualTo(5);
    }

    @Test
    void dryRunJsonCountsWhatWouldHappenAndChangesNothing() throws Exception {
        DbState before = DbState.of(db);

        Cli.Result r = Cli.run(db, "run", "--dry-run", "--output", "json");

        assertThat(r.exitCode()).as("stderr: %s", r.err()).isZero();
        JsonNode doc = ONE_DOCUMENT.readValue(r.out());
        assertThat(doc.path("dryRun").asBoolean()).isTrue();
        assertThat(doc.path("totals").path("leadsDeEnrolled").asInt()).isEqualTo(7);
        assertThat(DbState.of(db)).isEqualTo(before);
    }

    @Test
    void healthCheckPrintsOneDocumentWithStatusAndFindings() throws Exception {
        assertThat(Cli.run(db, "run").exitCode()).isZero();

        var captured = ProcessStreams.capture(() -> Cli.run(db, "health-check", "--output", "json"));

        Cli.Result r = captured.value();
        assertThat(captured.stdout()).as("nothing but the document reaches the process's stdout").isEmpty();
        JsonNode doc = ONE_DOCUMENT.readValue(r.out());
        assertThat(doc.path("status").asText()).as("document: %s", r.out()).isEqualTo("OK");
        assertThat(doc.path("exitCode").asInt()).isEqualTo(r.exitCode()).isZero();
        assertThat(doc.path("findings").isArray()).isTrue();
        assertThat(doc.path("findings").size()).isPositive();
        for (JsonNode finding : doc.path("findings")) {
            assertThat(finding.path("level").asText()).isIn("OK", "WARNING", "CRITICAL", "UNKNOWN");
            assertThat(finding.path("message").asText()).isNotBlank();
        }
    }

    @Test
    void healthCheckJsonOnAProblemCarriesTheProblem() throws Exception {
        // no run has ever been recorded: CRITICAL, and the document says why
        Cli.Result r = Cli.run(db, "health-check", "--output", "json");

        JsonNode doc = ONE_DOCUMENT.readValue(r.out());
        assertThat(doc.path("status").asText()).as("document: %s", r.out()).isEqualTo("CRITICAL");
        assertThat(doc.path("exitCode").asInt()).isEqualTo(r.exitCode()).isEqualTo(2);
        assertThat(doc.path("findings").findValuesAsText("level")).contains("CRITICAL");
    }

    @Test
    void aHealthFindingAboutAClientCarriesItsIdNameAndNextStepAndOneAboutThePlatformDoesNot() throws Exception {
        assertThat(Cli.run(db, "run").exitCode()).isZero();
        db.sql("UPDATE de_enrollment_runs SET run_at = now() - interval '3 hours', finished_at = now() - interval '3 hours',"
                + " heartbeat_at = now() - interval '3 hours' WHERE client_id = '" + acme + "'");

        Cli.Result r = Cli.run(db, "health-check", "--output", "json");

        JsonNode doc = ONE_DOCUMENT.readValue(r.out());
        assertThat(doc.path("status").asText()).as("document: %s", r.out()).isEqualTo("CRITICAL");
        JsonNode overdue = null;
        for (JsonNode finding : doc.path("findings")) {
            if (finding.path("rule").asText().equals("hours_since_success")) {
                overdue = finding;
            } else {
                assertThat(finding.has("clientId")).as("a platform finding: %s", finding).isFalse();
            }
        }
        assertThat(overdue).as("document: %s", r.out()).isNotNull();
        assertThat(overdue.path("clientId").asText()).isEqualTo(acme.toString());
        assertThat(overdue.path("clientName").asText()).isEqualTo("Acme");
        assertThat(overdue.path("message").asText()).startsWith("Client Acme (" + acme + ") hasn't run successfully in 3 hours");
        assertThat(overdue.path("nextStep").asText()).isEqualTo("deenroll run --client-id=" + acme);
    }
}
