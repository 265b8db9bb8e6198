package deenroll.cli;

import deenroll.engine.Progress;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The live progress line's wording, and how it is drawn and erased on the terminal. */
class ProgressLineTest {

    @Test
    void namesClientsDoneLeadsRateAndTheBudgetLeft() {
        Progress p = new Progress(3, 10, 12_345, Duration.ofSeconds(30), Duration.ofSeconds(192));

        assertThat(ProgressLine.text(p))
                .isEqualTo("deenroll: 3/10 clients done, 12,345 leads de-enrolled (412/s), 3 min 12 s left in the budget");
    }

    @Test
    void aSlowStartShowsAFractionalRateAndSecondsLeft() {
        Progress p = new Progress(0, 1, 3, Duration.ofMillis(1500), Duration.ofSeconds(42));

        assertThat(ProgressLine.text(p)).isEqualTo("deenroll: 0/1 clients done, 3 leads de-enrolled (2.0/s), 42 s left in the budget");
    }

    @Test
    void noTimeSpentIsNoRateAndAnOverspentBudgetIsNoneLeft() {
        Progress p = new Progress(1, 1, 0, Duration.ZERO, Duration.ofSeconds(-3));

        assertThat(ProgressLine.text(p)).isEqualTo("deenroll: 1/1 clients done, 0 leads de-enrolled (0.0/s), 0 s left in the budget");
    }

    @Test
    void redrawsInPlaceLeavesTheCursorAtTheStartAndErasesItselfOnce() {
        StringWriter terminal = new StringWriter();
        ProgressLine line = new ProgressLine(new PrintWriter(terminal));
        Progress p = new Progress(1, 2, 5, Duration.ofSeconds(1), Duration.ofSeconds(9));

        line.sliceDone(() -> p);
        line.sliceDone(() -> p);
        line.clear();
        line.clear();

        String drawn = "\r\033[K" + ProgressLine.text(p) + "\033[K\r";
        assertThat(terminal.toString()).isEqualTo(drawn + drawn + "\r\033[K").doesNotContain("\n");
    }

    @Test
    void aLineNeverShownIsNotErased() {
        StringWriter terminal = new StringWriter();

        new ProgressLine(new PrintWriter(terminal)).clear();

        assertThat(terminal.toString()).isEmpty();
    }

    @Test
    void theTestsOwnStderrIsNoTerminalAndNeitherIsADumbOne() {
        // surefire's forked JVM writes stderr to a pipe: the very case that must show nothing
        assertThat(StderrTerminal.isTerminal(Map.of())).isFalse();
        assertThat(StderrTerminal.isTerminal(Map.of("TERM", "dumb"))).isFalse();
    }
}
