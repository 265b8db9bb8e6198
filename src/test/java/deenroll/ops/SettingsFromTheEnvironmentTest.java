package deenroll.ops;

import com.fasterxml.jackson.databind.JsonNode;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each command's settings resolve alike: the variable applies when the option
 * is absent, the option wins over it (docs/configuration.md). What each
 * command does with its value is observed in its output or its rows.
 */
class SettingsFromTheEnvironmentTest {

    private static final String STUCK_WARNING = "DE_ENROLLMENT_WARNING_STUCK_LEADS";

    /** A client whose last run succeeded a minute ago and three leads stuck since long ago: only the stuck rule can alert. */
    private static void healthyButThreeStuck(TestDatabase db) {
        Fixtures f = new Fixtures(db.db().dsl());
        UUID acme = f.client("Acme Dental");
        RunRows.run(db, acme, "now() - interval '1 minute'", "success", 0, null);
        f.leads(acme, f.campaign(acme, 2), 2, 3);
        f.recount();
    }

    /** health-check's perfdata carries the ranges it judged by: {@code 'stuck_leads'=3;W;C;0}. */
    private static String stuckPerfdata(Cli.Result nagios) {
        return nagios.out().lines().findFirst().orElseThrow().replaceAll(".*('stuck_leads'=[^ ]*).*", "$1");
    }

    @Test
    void healthCheckAndReportDailyReadTheSameThresholdsFromTheSameSources() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            healthyButThreeStuck(db);
            record Case(Map<String, String> env, List<String> options, String perfdata, String status) {
            }
            List<Case> cases = List.of(
                    new Case(Map.of(), List.of(), "'stuck_leads'=3;100;500;0", "OK"),
                    new Case(Map.of(STUCK_WARNING, "2"), List.of(), "'stuck_leads'=3;2;500;0", "WARNING"),
                    new Case(Map.of(STUCK_WARNING, "2", "DE_ENROLLMENT_CRITICAL_STUCK_LEADS", "2:"), List.of(),
                            "'stuck_leads'=3;2;2:;0", "WARNING"),
                    new Case(Map.of("DE_ENROLLMENT_CRITICAL_STUCK_LEADS", "2"), List.of(), "'stuck_leads'=3;100;2;0",
                            null),
                    new Case(Map.of(STUCK_WARNING, "2"), List.of("-w", "stuck_leads=10"), "'stuck_leads'=3;10;500;0", "OK"),
                    new Case(Map.of(STUCK_WARNING, "2"), List.of("--stuck-warning", "10"), "'stuck_leads'=3;10;500;0", "OK"),
                    new Case(Map.of(STUCK_WARNING, "10"), List.of("-w", "stuck_leads=1"), "'stuck_leads'=3;1;500;0", "WARNING"));
            for (Case c : cases) {
                String[] health = concat(List.of("health-check", "--format", "nagios"), c.options());
                String[] daily = concat(List.of("report", "daily", "--output", "json"), c.options());
                Cli.Result check = Cli.run(db, c.env(), health);
                Cli.Result report = Cli.run(db, c.env(), daily);
                if (c.status() == null) {
                    // a critical range below the default warning one is refused whichever source gave it
                    assertThat(check.exitCode()).as("%s", c).isEqualTo(3);
                    assertThat(check.err()).contains("DE_ENROLLMENT_CRITICAL_STUCK_LEADS");
                    assertThat(report.exitCode()).as("%s", c).isEqualTo(2);
                    assertThat(report.err()).contains("DE_ENROLLMENT_CRITICAL_STUCK_LEADS");
                    continue;
                }
                assertThat(stuckPerfdata(check)).as("%s: %s", c, check.out()).isEqualTo(c.perfdata());
                assertThat(check.out()).as("%s", c).startsWith(c.status() + ":");
                JsonNode json = Json.of(report);
                assertThat(json.get("healthStatus").asText()).as("report daily, %s", c).isEqualTo(c.status());
                assertThat(report.exitCode()).as("report daily, %s", c).isEqualTo(c.status().equals("OK") ? 0 : 1);
            }
        }
    }

    @Test
    void theStuckGraceIsOneSettingOfHealthCheckReportDailyAndVerify() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            healthyButThreeStuck(db);
            db.sql("UPDATE leads SET last_message_at = now() - interval '45 minutes', updated_at = now() - interval '45 minutes'");
            Map<String, String> hour = Map.of("DE_ENROLLMENT_STUCK_GRACE_MINUTES", "60");

            // the default, 30 minutes: three stuck; the variable, an hour: none; the option wins over it
            assertThat(verifyStuck(Cli.run(db, "verify", "--output", "json"))).isEqualTo(3);
            assertThat(verifyStuck(Cli.run(db, hour, "verify", "--output", "json"))).isZero();
            assertThat(verifyStuck(Cli.run(db, hour, "verify", "--output", "json", "--stuck-grace-minutes", "40"))).isEqualTo(3);

            assertThat(Json.of(Cli.run(db, hour, "report", "daily", "--output", "json")).get("stuckLeads").asInt()).isZero();
            assertThat(Json.of(Cli.run(db, hour, "report", "daily", "--output", "json", "--stuck-grace-minutes", "40"))
                    .get("stuckLeads").asInt()).isEqualTo(3);
            assertThat(stuckPerfdata(Cli.run(db, hour, "health-check", "--format", "nagios"))).startsWith("'stuck_leads'=0;");
            assertThat(stuckPerfdata(Cli.run(db, hour, "health-check", "--format", "nagios", "--stuck-grace-minutes", "40")))
                    .startsWith("'stuck_leads'=3;");
        }
    }

    private static int verifyStuck(Cli.Result verify) {
        return Json.of(verify).get("stuckLeads").get("count").asInt();
    }

    @Test
    void cleanupsRetentionComesFromItsVariablesUnlessGiven() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Map<String, String> env = Map.of("DE_ENROLLMENT_CLEANUP_RUNS_DAYS", "120",
                    "DE_ENROLLMENT_CLEANUP_LEAD_LOG_DAYS", "45", "DE_ENROLLMENT_CLEANUP_BACKUP_DAYS", "60");

            JsonNode fromEnv = Json.of(Cli.run(db, env, "cleanup", "--dry-run", "--output", "json"));
            JsonNode given = Json.of(Cli.run(db, env, "cleanup", "--dry-run", "--output", "json", "--runs-days", "91",
                    "--lead-log-days", "31"));
            JsonNode defaults = Json.of(Cli.run(db, "cleanup", "--dry-run", "--output", "json"));

            assertThat(fromEnv.get("runsDays").asInt()).isEqualTo(120);
            assertThat(fromEnv.get("leadLogDays").asInt()).isEqualTo(45);
            assertThat(given.get("runsDays").asInt()).isEqualTo(91);
            assertThat(given.get("leadLogDays").asInt()).isEqualTo(31);
            assertThat(defaults.get("runsDays").asInt()).isEqualTo(90);
            assertThat(defaults.get("leadLogDays").asInt()).isEqualTo(30);
        }
    }

    @Test
    void migrateStuckLeadsHonoursTheMaxRuntimeVariable() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Fixtures f = new Fixtures(db.db().dsl());
            UUID acme = f.client("Acme Dental");
            f.leads(acme, f.campaign(acme, 2), 2, 2);
            f.recount();

            Cli.Result fromEnv = Cli.run(db, Map.of("DE_ENROLLMENT_MAX_RUNTIME", "123456"), "migrate-stuck-leads");
            assertThat(fromEnv.exitCode()).as(fromEnv.err()).isZero();
            assertThat(budgets(db)).containsExactly(123_456L);

            f.leads(acme, f.campaign(acme, 1), 1, 1);
            f.recount();
            Cli.Result given = Cli.run(db, Map.of("DE_ENROLLMENT_MAX_RUNTIME", "123456"), "migrate-stuck-leads",
                    "--max-runtime", "654321");
            assertThat(given.exitCode()).as(given.err()).isZero();
            assertThat(budgets(db)).containsExactly(123_456L, 654_321L);

            f.leads(acme, f.campaign(acme, 1), 1, 1);
            f.recount();
            Cli.Result byDefault = Cli.run(db, "migrate-stuck-leads");
            assertThat(byDefault.exitCode()).as(byDefault.err()).isZero();
            assertThat(budgets(db)).containsExactly(123_456L, 654_321L, 3_600_000L);
        }
    }

    @Test
    void runsBudgetComesFromItsVariableUnlessGiven() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Fixtures f = new Fixtures(db.db().dsl());
            UUID acme = f.client("Acme Dental");
            Map<String, String> env = Map.of("DE_ENROLLMENT_MAX_RUNTIME", "200000");

            assertThat(Cli.run(db, env, "run").exitCode()).isZero();
            assertThat(Cli.run(db, env, "run", "--max-runtime", "100000").exitCode()).isZero();
            assertThat(Cli.run(db, "run").exitCode()).isZero();

            assertThat(budgets(db)).containsExactly(200_000L, 100_000L, 240_000L);
        }
    }

    private static List<Long> budgets(TestDatabase db) {
        return Sql.rows(db, "SELECT budget_ms FROM de_enrollment_runs ORDER BY run_at").stream()
                .map(r -> ((Number) r.get("budget_ms")).longValue()).toList();
    }

    private static String[] concat(List<String> a, List<String> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toArray(String[]::new);
    }
}
