package deenroll.prometheus;

import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Prometheus path, in the real programs (Debian's packages): node_exporter's
 * textfile collector reads --metrics-file, the Pushgateway receives
 * --pushgateway, Prometheus scrapes both and evaluates our alerting rules, and
 * its HTTP API returns every series the run and the health check wrote, after a
 * success, a failed run and a run without database. Opt-in (tag prometheus):
 * {@code ./mvnw -B test -Pprometheus} or deploy/prometheus/test.sh; skipped,
 * saying which package is missing, where the programs are not installed.
 */
@Tag("prometheus")
class PrometheusEndToEndTest {

    /** A sample line of the text format: name, optional labels, value. */
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{.*})? (\\S+)$");
    /** Where node_exporter's samples land (our scrape job), and the Pushgateway's (the pushed job, honor_labels). */
    private static final String NODE = "node";
    private static final String PUSHED = "deenroll";
    private static final String PUSHED_HEALTH = "deenroll_health";
    private static final String LAST_SUCCESS = "deenroll_last_success_timestamp_seconds";

    @TempDir
    Path dir;

    @BeforeEach
    void programsInstalled() {
        PrometheusStack.missing().ifPresent(why -> Assumptions.abort("Prometheus end-to-end test skipped: " + why));
    }

    @Test
    void theRulesPassPromtoolCheckAndTheirUnitTests() throws Exception {
        assertThat(promtool("check", "rules", PrometheusStack.RULES.toString())).contains("SUCCESS: 15 rules found");
        assertThat(promtool("test", "rules", PrometheusStack.RULES.resolveSibling("deenroll.rules.test.yml").toString()))
                .contains("SUCCESS");
    }

    @Test
    void everySeriesArrivesByBothPathsAndOnlyASuccessMovesTheLastSuccessTime() throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated(); PrometheusStack prometheus = new PrometheusStack(dir)) {
            Fixtures f = new Fixtures(db.db().dsl());
            UUID acme = f.client("Acme");
            UUID acmeCampaign = f.campaign(acme, 2);
            f.leads(acme, acmeCampaign, 2, 2);
            f.lead(acme, acmeCampaign, 2, true, false);
            UUID bright = f.client("Bright Dental");
            UUID brightCampaign = f.campaign(bright, 1);
            f.leads(bright, brightCampaign, 1, 1);
            f.recount();
            Path runFile = prometheus.textfileDirectory().resolve("deenroll.prom");
            Map<String, String> monitoring = Map.of("DE_ENROLLMENT_METRICS_FILE", runFile.toString(),
                    "DE_ENROLLMENT_PUSHGATEWAY_URL", prometheus.pushgatewayUrl());

            // a success: every series of the file, by both paths
            assertThat(Cli.run(db, monitoring, "run").exitCode()).isZero();
            Map<String, Double> first = samples(runFile);
            double lastSuccess = first.get(LAST_SUCCESS);
            assertArrived(prometheus, first, NODE);
            assertArrived(prometheus, first, PUSHED);
            assertThat(first).containsEntry("deenroll_leads_de_enrolled_total{outcome=\"completed\"}", 3.0)
                    .containsEntry("deenroll_leads_de_enrolled_total{outcome=\"booked\"}", 1.0)
                    .containsEntry("deenroll_run_status{client=\"Bright Dental\",client_id=\"" + bright + "\"}", 0.0)
                    .containsEntry("deenroll_last_run_exit_code", 0.0)
                    .containsKeys("deenroll_last_run_duration_seconds", "deenroll_last_run_timestamp_seconds",
                            "deenroll_stuck_leads");

            // a failed run (Bright Dental's updates fail) that still de-enrolls one of Acme's leads
            f.leads(acme, f.campaign(acme, 1), 1, 1);
            f.leads(bright, brightCampaign, 1, 1);
            f.recount();
            db.sql("CREATE FUNCTION test_fail() RETURNS trigger LANGUAGE plpgsql AS $$"
                    + " BEGIN IF NEW.client_id = '" + bright + "' THEN RAISE EXCEPTION 'test: broken' USING ERRCODE = 'query_canceled';"
                    + " END IF; RETURN NEW; END $$;"
                    + " CREATE TRIGGER test_fail AFTER UPDATE ON campaigns FOR EACH ROW EXECUTE FUNCTION test_fail();");
            assertThat(Cli.run(db, monitoring, "run").exitCode()).isEqualTo(1);
            Map<String, Double> failed = samples(runFile);
            assertArrived(prometheus, failed, NODE);
            assertArrived(prometheus, failed, PUSHED);
            assertThat(failed).containsEntry(LAST_SUCCESS, lastSuccess)
                    .containsEntry("deenroll_last_run_exit_code", 1.0)
                    .containsEntry("deenroll_run_status{client=\"Bright Dental\",client_id=\"" + bright + "\"}", 2.0)
                    .containsEntry("deenroll_last_run_leads_de_enrolled{outcome=\"completed\"}", 1.0)
                    .as("the counter survives between pushes")
                    .containsEntry("deenroll_leads_de_enrolled_total{outcome=\"completed\"}", 4.0);
            assertThat(failed.get("deenroll_last_run_timestamp_seconds")).isGreaterThan(lastSuccess);
            prometheus.await("the failed client's alert", "ALERTS{alertname=\"DeenrollClientRunFailed\",alertstate=\"firing\"}",
                    alerts -> alerts.keySet().stream().anyMatch(l -> bright.toString().equals(l.get("client_id"))));

            // a run that cannot reach its database: completion time and exit code move, nothing else
            Map<String, String> unreachable = new LinkedHashMap<>(monitoring);
            unreachable.put("DATABASE_URL", "postgres://u@127.0.0.1:1/db");
            unreachable.put("DE_ENROLLMENT_CONNECT_TIMEOUT", "1000");
            assertThat(Cli.run(unreachable, "run").exitCode()).isEqualTo(4);
            Map<String, Double> down = samples(runFile);
            assertArrived(prometheus, down, NODE);
            assertArrived(prometheus, down, PUSHED);
            assertThat(down).containsEntry(LAST_SUCCESS, lastSuccess).containsEntry("deenroll_last_run_exit_code", 4.0)
                    .containsEntry("deenroll_leads_de_enrolled_total{outcome=\"completed\"}", 4.0);

            // the health check, in a file and a group of its own
            Path healthFile = prometheus.textfileDirectory().resolve("deenroll-health.prom");
            Cli.Result health = Cli.run(db, Map.of("DE_ENROLLMENT_METRICS_FILE", healthFile.toString(),
                    "DE_ENROLLMENT_PUSHGATEWAY_URL", prometheus.pushgatewayUrl()), "health-check");
            Map<String, Double> checked = samples(healthFile);
            assertThat(checked).containsEntry("deenroll_health_status", (double) health.exitCode())
                    .containsEntry("deenroll_health_failed_runs_24h", 1.0)
                    .containsEntry("deenroll_health_paused_seconds", 0.0)
                    .containsKeys("deenroll_health_stuck_leads", "deenroll_health_success_rate_24h_percent",
                            "deenroll_health_hours_since_success_max", "deenroll_health_average_run_seconds_24h");
            assertArrived(prometheus, checked, NODE);
            assertArrived(prometheus, checked, PUSHED_HEALTH);
        }
    }

    /** Every sample of the file, with the same value, under {@code job} (the run's last timestamp first: one scrape carries all). */
    private static void assertArrived(PrometheusStack prometheus, Map<String, Double> samples, String job)
            throws InterruptedException {
        String first = samples.containsKey("deenroll_last_run_timestamp_seconds")
                ? "deenroll_last_run_timestamp_seconds" : "deenroll_health_status";
        prometheus.await(first + " of this run for job " + job, selector(first, job),
                v -> v.values().stream().anyMatch(x -> x.equals(samples.get(first))));
        for (Map.Entry<String, Double> s : samples.entrySet()) {
            assertThat(prometheus.query(selector(s.getKey(), job)).values()).as(s.getKey() + " for job " + job)
                    .containsExactly(s.getValue());
        }
    }

    /** {@code name{labels}} of the text format as a PromQL selector that also matches {@code job}. */
    private static String selector(String sample, String job) {
        int brace = sample.indexOf('{');
        return brace < 0 ? sample + "{job=\"" + job + "\"}"
                : sample.substring(0, sample.length() - 1) + ",job=\"" + job + "\"}";
    }

    private static Map<String, Double> samples(Path file) throws IOException {
        Map<String, Double> samples = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file)) {
            Matcher m = SAMPLE.matcher(line);
            if (!line.startsWith("#") && m.matches()) {
                samples.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), Double.parseDouble(m.group(3)));
            }
        }
        return samples;
    }

    private static String promtool(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(PrometheusStack.Binary.PROMTOOL.path().orElseThrow().toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectInput(new File("/dev/null")).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", command) + "\n" + output).isZero();
        return output;
    }
}
