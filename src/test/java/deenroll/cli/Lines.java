package deenroll.cli;

import java.util.List;

/** The non-blank lines of captured output. */
final class Lines {

    private Lines() {
    }

    static List<String> of(String text) {
        return text.lines().filter(l -> !l.isBlank()).toList();
    }
}
