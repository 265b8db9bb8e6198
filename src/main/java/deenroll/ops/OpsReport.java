package deenroll.ops;

import java.util.List;
import java.util.Map;

/**
 * What an operations command found or did, in both forms the CLI prints:
 * lines for people, one JSON document for scripts. {@code problem} sets the
 * exit code of commands that check (verify) or refuse.
 */
public record OpsReport(List<String> lines, Map<String, Object> json, boolean problem) {

    public OpsReport {
        lines = List.copyOf(lines);
    }
}
