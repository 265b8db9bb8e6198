package deenroll.cli;

import deenroll.support.Cli;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** picocli's complaints about a command line name options and words, never a value that may hold a secret. */
class ParseErrorsTest {

    private static final String URL = "postgres://app:S3cretPw@db.example.com:5432/app";

    @Test
    void aMistypedOptionIsNamedWithoutItsValue() {
        Cli.Result attached = Cli.run(Map.of(), "run", "--databse-url=" + URL);
        Cli.Result separate = Cli.run(Map.of(), "run", "--databse-url", URL);

        assertThat(attached.exitCode()).isEqualTo(ExitCode.USAGE);
        assertThat(attached.err()).isEqualTo("deenroll: Unknown option or argument: '--databse-url=…' (see --help)\n");
        assertThat(separate.exitCode()).isEqualTo(ExitCode.USAGE);
        assertThat(separate.err()).isEqualTo("deenroll: Unknown options or arguments: '--databse-url', '…' (see --help)\n");
    }

    @Test
    void healthCheckKeepsTheNagiosExitCodeAndHidesTheValueToo() {
        Cli.Result r = Cli.run(Map.of(), "health-check", "--databse-url=" + URL);

        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.err()).contains("'--databse-url=…'").doesNotContain("S3cretPw");
    }

    @Test
    void wordsAreStillShownSoATypoCanBeSeen() {
        Cli.Result command = Cli.run(Map.of(), "helth-check");
        Cli.Result value = Cli.run(Map.of(), "run", "--output", "xml");
        Cli.Result url = Cli.run(Map.of(), "run", "--output", URL);

        assertThat(command.err()).contains("'helth-check'");
        assertThat(value.err()).contains("--output").contains("'xml'");
        assertThat(url.exitCode()).isEqualTo(ExitCode.USAGE);
        assertThat(url.err()).contains("--output").doesNotContain("S3cretPw").doesNotContain("db.example.com");
    }
}
