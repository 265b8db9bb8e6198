package deenroll.cli;

import deenroll.engine.StopSignal;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * SIGTERM (systemd stop, Kubernetes, an n8n timeout) starts the JVM's shutdown:
 * this guard asks the engine to stop after the slice of batches in flight (at
 * most about a second of them), waits (at most 60 s) until the run rows are
 * closed and the report printed, then ends the
 * process with the command's own exit code (3 for partial) instead of 143.
 * A shutdown that starts after the command returned (main's System.exit; a
 * signal in that last instant ends the process as signalled, 143) is left
 * alone, so the JVM's other hooks finish: a flight recording's dump on exit,
 * which a halt here cut off to an empty file.
 */
final class SigtermGuard {

    private static final long GRACE_SECONDS = 60;

    private SigtermGuard() {
    }

    static int run(StopSignal stop, IntSupplier command) {
        CountDownLatch finished = new CountDownLatch(1);
        int[] exitCode = {ExitCode.FAILED};
        Thread hook = new Thread(() -> {
            if (finished.getCount() == 0) {
                return;
            }
            stop.request();
            try {
                if (finished.await(GRACE_SECONDS, TimeUnit.SECONDS)) {
                    Runtime.getRuntime().halt(exitCode[0]);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "deenroll-sigterm");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            exitCode[0] = command.getAsInt();
            return exitCode[0];
        } finally {
            finished.countDown();
        }
    }
}
