package deenroll.engine;

import java.util.function.Supplier;

/**
 * Told after each slice of the batch loop (at most {@link Engine#MAX_SLICE}
 * apart). Reading the progress costs a query, so it is offered as a supplier
 * and only a listener that shows it pays for it.
 */
@FunctionalInterface
public interface ProgressListener {

    ProgressListener NONE = progress -> {
    };

    void sliceDone(Supplier<Progress> progress);
}
