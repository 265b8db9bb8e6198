package deenroll.engine;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Set by SIGTERM (the JVM's shutdown hook): the engine finishes the batch in
 * flight, closes the run as partial, and starts nothing new.
 */
public final class StopSignal {

    private final AtomicBoolean requested = new AtomicBoolean();

    public void request() {
        requested.set(true);
    }

    public boolean requested() {
        return requested.get();
    }
}
