package deenroll.bench;

import deenroll.support.Cli;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The benchmark of bench/run.sh, checked for correctness (not timed) on its
 * "tiny" dataset: both templates get the same data from gen.sql, the floor's
 * own scripts de-enroll and check it, and deenroll, run as the bench runs it
 * (all clients, default batch), passes the same checker (check-deenroll.sql,
 * which wraps floor-check.sql) and `verify`. No timing assertions.
 * gen.sql and the checkers are psql scripts (variables, \gset, \if), so this
 * needs psql on the PATH and is skipped without it.
 */
class BenchTinyTest {

    private static final Path BENCH = Path.of("bench");
    /** The tiny dataset of bench/run.sh. */
    private static final List<String> TINY = List.of("-v", "clients=3", "-v", "campaigns_per_client=40",
            "-v", "leads_per_campaign=50", "-v", "messages=5", "-v", "completed_pct=50");
    /** Identifies the generated data independently of the schema around it. */
    private static final String DATA_DIGEST = "SELECT 'digest=' || md5(string_agg(concat_ws(',', id, client_id, "
            + "campaign_link_id, current_message_position, is_active, opted_out, booked, enrolled_at, completed_at, "
            + "campaign_history::text), ';' ORDER BY id)) || ' eligible=' || count(*) FILTER (WHERE is_active "
            + "AND completed_at IS NULL AND current_message_position >= 5 AND campaign_link_id IN (SELECT id FROM "
            + "campaigns WHERE CASE WHEN jsonb_typeof(messages) = 'array' THEN jsonb_array_length(messages) > 0 END)) "
            + "FROM leads";

    @Test
    void floorAndDeenrollDeEnrollTheSameGeneratedDataAndPassTheChecks() throws Exception {
        assumeTrue(psqlPresent(), "psql is not on the PATH: the bench's SQL scripts need it");
        TestPostgres server = TestPostgres.get();
        try (TestDatabase floor = server.empty(); TestDatabase tool = server.migrated()) {
            // the two templates of bench/run.sh
            psql(floor, "-f", BENCH.resolve("schema-floor.sql").toString());
            psql(floor, "-f", BENCH.resolve("index-eligibility.sql").toString());
            psql(floor, TINY, "-f", BENCH.resolve("gen.sql").toString());
            psql(tool, TINY, "-f", BENCH.resolve("gen.sql").toString());

            String floorData = psql(floor, "-Atc", DATA_DIGEST).strip();
            String toolData = psql(tool, "-Atc", DATA_DIGEST).strip();
            assertThat(toolData).isEqualTo(floorData);
            int eligible = Integer.parseInt(floorData.replaceAll(".* eligible=", ""));
            assertThat(eligible).isGreaterThan(1000);

            // the batched floor, with its own check
            String batched = psql(floor, "-f", BENCH.resolve("floor-batched.sql").toString());
            assertThat(batched).contains("check: OK").contains("check: de_enrolled=" + eligible + " ")
                    .containsPattern("batched_ms=[0-9.]+");

            // deenroll, then the floor's checker over every run row, then verify
            Cli.Result run = Cli.run(tool, Map.of("LOG_LEVEL", "warn"), "run", "--output", "json");
            assertThat(run.exitCode()).as(run.err()).isZero();
            assertThat(run.out()).contains("\"leadsDeEnrolled\" : " + eligible + ",");
            String check = psql(tool, "-f", BENCH.resolve("check-deenroll.sql").toString());
            assertThat(check).contains("check: OK").contains("check: de_enrolled=" + eligible + " ")
                    .contains("check: runs=3 runs_not_success=0")
                    .contains("remaining_eligible_bad=0").contains("stats_drift_bad=0");
            Cli.Result verify = Cli.run(tool, "verify");
            assertThat(verify.exitCode()).as(verify.out() + verify.err()).isZero();

            // the floor's data after its pass and deenroll's data agree on who was de-enrolled
            String who = "SELECT md5(string_agg(id::text || is_active || (completed_at IS NULL) "
                    + "|| (campaign_history -> -1 ->> 'outcome'), ';' ORDER BY id)) FROM leads";
            assertThat(psql(tool, "-Atc", who)).isEqualTo(psql(floor, "-Atc", who));
        }
    }

    private static boolean psqlPresent() {
        try {
            Process p = new ProcessBuilder("psql", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static String psql(TestDatabase db, String... args) throws Exception {
        return psql(db, List.of(), args);
    }

    /** Runs psql on {@code db} (its JDBC URL turned into libpq settings); fails on a non-zero exit. */
    private static String psql(TestDatabase db, List<String> vars, String... args) throws Exception {
        URI uri = URI.create(db.jdbcUrl().substring("jdbc:".length()));
        List<String> cmd = new ArrayList<>(List.of("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"));
        cmd.addAll(vars);
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("PG"));
        env.put("PGHOST", uri.getHost());
        env.put("PGPORT", String.valueOf(uri.getPort()));
        env.put("PGDATABASE", uri.getPath().substring(1));
        if (uri.getQuery() != null) {
            for (String kv : uri.getQuery().split("&")) {
                String[] p = kv.split("=", 2);
                if (p.length == 2 && p[0].equals("user")) {
                    env.put("PGUSER", p[1]);
                } else if (p.length == 2 && p[0].equals("password")) {
                    env.put("PGPASSWORD", p[1]);
                }
            }
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("psql %s timed out", args).isTrue();
        assertThat(p.exitValue()).as("psql %s failed:%n%s", String.join(" ", args), out).isZero();
        return out;
    }
}
