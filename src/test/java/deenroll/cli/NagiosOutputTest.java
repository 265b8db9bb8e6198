package deenroll.cli;

import deenroll.health.RunHistory;
import deenroll.support.Cli;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * health-check --format nagios: the plugin contract's first line
 * {@code STATUS: text | 'label'=value[UOM];warn;crit;min;max}, the findings
 * after it, and the Nagios exit codes.
 */
class NagiosOutputTest {

    @Test
    void warningStatusLineCarriesPerfdataWithThresholds() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Fixtures f = new Fixtures(db.db().dsl());
            UUID acme = f.client("Acme");
            f.leads(acme, f.campaign(acme, 2), 2, 6);
            f.recount();
            new RunHistory(db).finished(acme, "success", "5 minutes", 1);

            Cli.Result r = Cli.run(db, "health-check", "--format", "nagios", "--stuck-warning", "5");

            assertThat(r.exitCode()).as(r.out()).isEqualTo(1);
            String first = r.out().lines().findFirst().orElseThrow();
            assertThat(first).startsWith("WARNING: 6 stuck lead(s)");
            assertThat(first.substring(first.indexOf(" | ") + 3).split(" ")).contains(
                    "'stuck_leads'=6;5;500;0",
                    "'success_rate_24h'=100%;95:;;0;100",
                    "'failed_runs_24h'=0;;;0",
                    "'peak_memory_24h'=256MB;2048;;0");
            assertThat(first).containsPattern("'hours_since_success_max'=0\\.\\d+;;2;0");
            assertThat(r.out().lines().skip(1)).contains("⚠️ 6 stuck lead(s) (finished their sequence more than 30 min ago, still enrolled), above 5");
        }
    }

    @Test
    void okStatusLine() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            Fixtures f = new Fixtures(db.db().dsl());
            f.client("Acme");
            assertThat(Cli.run(db, "run").exitCode()).isZero();

            Cli.Result r = Cli.run(db, "health-check", "--format", "nagios");

            assertThat(r.exitCode()).isZero();
            assertThat(r.out().lines().findFirst().orElseThrow()).startsWith("OK: Last run 0 min ago | 'stuck_leads'=0;100;500;0");
        }
    }

    @Test
    void unreachableDatabaseIsUnknownWithoutPerfdata() {
        Cli.Result r = Cli.run(Map.of("DATABASE_URL", "postgres://u:S3cretPw@127.0.0.1:1/db"), "health-check", "--format", "nagios");

        assertThat(r.exitCode()).isEqualTo(3);
        String first = r.out().lines().findFirst().orElseThrow();
        assertThat(first).startsWith("UNKNOWN: cannot connect to the database").doesNotContain("|").doesNotContain("S3cretPw");
    }

    @Test
    void anUnknownFormatIsUnknownForNagios() {
        Cli.Result r = Cli.run(Map.of(), "health-check", "--format", "xml");

        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.err()).contains("--format");
    }
}
