package deenroll.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Whether the process's stderr is a terminal (isatty(2)): what the live
 * progress line of a run waits for. Java has no isatty; System.console()
 * answers for stdin and stdout, not stderr, so this asks Linux's /proc where
 * file descriptor 2 leads. Elsewhere, or with TERM=dumb (no cursor control),
 * the answer is no: a progress line must never land in a file or a pipe.
 */
final class StderrTerminal {

    private static final Path STDERR = Path.of("/proc/self/fd/2");

    private StderrTerminal() {
    }

    static boolean isTerminal(Map<String, String> env) {
        if ("dumb".equals(env.get("TERM"))) {
            return false;
        }
        try {
            String target = Files.readSymbolicLink(STDERR).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }
}
