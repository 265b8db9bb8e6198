package deenroll.cli;

import deenroll.engine.Progress;
import deenroll.engine.ProgressListener;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The live progress line of a run whose stderr is a terminal: rewritten in
 * place after each slice of the batch loop, and erased before the report.
 * The cursor is left at the start of the line, so a log line written
 * meanwhile overwrites it instead of continuing it.
 */
final class ProgressLine implements ProgressListener {

    private static final String ERASE_LINE = "\r\033[K";

    private final PrintWriter terminal;
    private boolean shown;

    ProgressLine(PrintWriter terminal) {
        this.terminal = terminal;
    }

    /** "deenroll: 3/10 clients done, 12,345 leads de-enrolled (410/s), 3 min 12 s left in the budget". */
    static String text(Progress p) {
        double rate = p.leadsPerSecond();
        return String.format(Locale.ROOT, "deenroll: %d/%d clients done, %,d leads de-enrolled (%s/s), %s left in the budget",
                p.clientsDone(), p.clientsTotal(), p.leadsDeEnrolled(),
                rate < 10 ? String.format(Locale.ROOT, "%.1f", rate) : String.format(Locale.ROOT, "%,d", Math.round(rate)),
                duration(p.budgetLeft().toSeconds()));
    }

    private static String duration(long seconds) {
        return seconds < 60 ? seconds + " s" : String.format(Locale.ROOT, "%d min %02d s", seconds / 60, seconds % 60);
    }

    @Override
    public void sliceDone(Supplier<Progress> progress) {
        terminal.print(ERASE_LINE + text(progress.get()) + "\033[K\r");
        terminal.flush();
        shown = true;
    }

    /** Erases the line, so what follows (the report, a log line) starts on a clean one. */
    void clear() {
        if (shown) {
            terminal.print(ERASE_LINE);
            terminal.flush();
            shown = false;
        }
    }
}
