package deenroll.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * Captures what the process writes to System.out and System.err while a command
 * runs in-process. Cli.Result holds only what the command writes to its own
 * out/err writers; in the real process those are System.out/System.err, and the
 * logs (Logback's console appender) and any library's chatter land there too.
 * So the real stdout is {@code result.out() + stdout()}, the real stderr
 * {@code result.err() + stderr()}.
 */
final class ProcessStreams {

    private ProcessStreams() {
    }

    record Captured<T>(T value, String stdout, String stderr) {
        /** Everything the process printed besides the command's own output: logs and library output. */
        String text() {
            return stdout + stderr;
        }
    }

    static synchronized <T> Captured<T> capture(Supplier<T> work) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream outBuffer = new ByteArrayOutputStream();
        ByteArrayOutputStream errBuffer = new ByteArrayOutputStream();
        PrintStream outCapture = new PrintStream(outBuffer, true, StandardCharsets.UTF_8);
        PrintStream errCapture = new PrintStream(errBuffer, true, StandardCharsets.UTF_8);
        System.setOut(outCapture);
        System.setErr(errCapture);
        try {
            T value = work.get();
            outCapture.flush();
            errCapture.flush();
            return new Captured<>(value, outBuffer.toString(StandardCharsets.UTF_8),
                    errBuffer.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }
}
