package deenroll.cli;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Work with a deadline, as a Nagios plugin's {@code -t}: past it the caller
 * goes on without the result (empty) and the work is left to finish on a
 * daemon thread, which cannot keep the process alive.
 */
final class TimeLimit {

    private TimeLimit() {
    }

    static <T> Optional<T> run(Optional<Duration> limit, Supplier<T> work) {
        if (limit.isEmpty()) {
            return Optional.of(work.get());
        }
        FutureTask<T> task = new FutureTask<>(work::get);
        Thread thread = new Thread(task, "deenroll-time-limit");
        thread.setDaemon(true);
        thread.start();
        try {
            return Optional.of(task.get(limit.get().toMillis(), TimeUnit.MILLISECONDS));
        } catch (TimeoutException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException(e.getCause());
        }
    }
}
