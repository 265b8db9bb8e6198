package deenroll.cli;

import deenroll.support.Cli;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * `deenroll generate-completion` prints picocli's completion script for the
 * whole command tree; bash runs it as it is, zsh through bashcompinit. The
 * script is sourced into a real shell here and asked for completions.
 */
class CompletionTest {

    @Test
    void completesEveryCommandAndTheOptionsOfEach() throws Exception {
        Path script = script();
        try {
            List<String> commands = new ArrayList<>(model().getSubcommands().keySet());

            assertThat(bashCompletes(script, "deenroll", "")).containsExactlyInAnyOrderElementsOf(commands);
            assertThat(bashCompletes(script, "deenroll", "--he")).containsExactlyInAnyOrder("--health-check", "--help");
            assertThat(bashCompletes(script, "deenroll", "heal")).containsExactly("health-check");
            assertThat(bashCompletes(script, "deenroll", "health-check", "--ti")).containsExactly("--timeout");
            assertThat(bashCompletes(script, "deenroll", "run", "--dry")).containsExactly("--dry-run");
            assertThat(bashCompletes(script, "deenroll", "report", "")).contains("daily", "weekly", "lead", "indexes");
        } finally {
            Files.deleteIfExists(script);
        }
    }

    @Test
    void zshLoadsTheScriptThroughBashcompinit() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/zsh")) || Files.isExecutable(Path.of("/bin/zsh")), "zsh installed");
        Path script = script();
        try {
            String out = shell("zsh", "-f", "-c", "autoload -U +X compinit && compinit -u && source " + script
                    + " && print -r -- \"${_comps[deenroll]}\"");

            assertThat(out.strip()).isEqualTo("_bash_complete -F _complete_deenroll -o default");
        } finally {
            Files.deleteIfExists(script);
        }
    }

    @Test
    void theScriptSaysHowToInstallItForBothShells() {
        Cli.Result r = Cli.run(Map.of(), "generate-completion");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).startsWith("#!/usr/bin/env bash").contains("complete -F _complete_deenroll")
                .contains("bashcompinit");
        assertThat(r.err()).isEmpty();
    }

    private static CommandLine model() {
        StringWriter ignored = new StringWriter();
        return Main.model(new CliContext(new PrintWriter(ignored), new PrintWriter(ignored), Map.of(), Clock.systemUTC(), false));
    }

    private static Path script() throws IOException {
        Cli.Result r = Cli.run(Map.of(), "generate-completion");
        assertThat(r.exitCode()).isZero();
        Path script = Files.createTempFile("deenroll-completion-", ".bash");
        Files.writeString(script, r.out());
        return script;
    }

    /** The completions bash offers for the last word of {@code words}, as a TAB would ask for them. */
    private static List<String> bashCompletes(Path script, String... words) throws Exception {
        StringBuilder array = new StringBuilder();
        for (String w : words) {
            array.append(" '").append(w).append("'");
        }
        String line = String.join(" ", words);
        // compopt only works inside a completion bash itself started: a no-op here
        String out = shell("bash", "--norc", "-c", "source " + script + "; compopt() { :; }; COMP_WORDS=(" + array
                + "); COMP_CWORD=" + (words.length - 1) + "; COMP_LINE='" + line + "'; COMP_POINT=${#COMP_LINE};"
                + " _complete_deenroll; printf '%s\\n' \"${COMPREPLY[@]}\"");
        return out.lines().filter(l -> !l.isEmpty()).toList();
    }

    private static String shell(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }
}
