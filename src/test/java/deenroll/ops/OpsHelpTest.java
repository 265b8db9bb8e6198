package deenroll.ops;

import deenroll.support.Cli;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operating commands are run by hand, at night, from the runbook: each
 * one's --help must show an example of how it is called, and must not need a
 * database to do so.
 */
class OpsHelpTest {

    @ParameterizedTest(name = "{0} --help")
    @ValueSource(strings = {"backup", "restore", "rollback", "migrate-stuck-leads", "verify", "reconcile-stats",
            "cleanup", "report", "report daily", "report weekly", "report lead", "report indexes",
            "status", "pause", "resume", "explain"})
    void helpShowsAnExampleAndExitsZero(String command) {
        String[] args = (command + " --help").split(" ");

        Cli.Result help = Cli.run(Map.of(), args);

        assertThat(help.exitCode()).as(help.err()).isZero();
        assertThat(help.out()).as("%s --help", command).contains("Example");
    }
}
