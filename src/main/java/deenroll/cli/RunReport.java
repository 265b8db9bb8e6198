package deenroll.cli;

import deenroll.engine.ClientRun;
import deenroll.engine.Counts;
import deenroll.engine.Invocation;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Prints an invocation's result: a short table for people, one JSON document for n8n. */
final class RunReport {

    private RunReport() {
    }

    static void print(CliContext ctx, OutputFormat format, Invocation inv, int exitCode) {
        if (format == OutputFormat.json) {
            ctx.printJson(json(inv, exitCode));
            return;
        }
        lines(inv).forEach(ctx.out::println);
        ctx.out.flush();
    }

    /** The result for people: a summary line, then one line per client. */
    static List<String> lines(Invocation inv) {
        List<String> lines = new ArrayList<>();
        Counts t = inv.totals();
        lines.add(String.format("deenroll %s%s: %s — %d de-enrolled (%s), %d skipped, %d failed, %d client(s), %d ms",
                inv.runType().sql(), inv.dryRun() ? " (dry run: nothing changed, counts are what would be de-enrolled)" : "",
                inv.status().sql(), t.deEnrolled(), outcomes(t), t.skipped(), t.failed(), inv.clients().size(),
                inv.durationMs()));
        for (ClientRun c : inv.clients()) {
            lines.add(String.format("  %-10s %s (%s): %d de-enrolled (%s)%s%s%s", c.status().sql(), c.clientName(), c.clientId(),
                    c.counts().deEnrolled(), outcomes(c.counts()),
                    c.counts().failed() == 0 ? "" : ", " + c.counts().failed() + " could not be de-enrolled (left enrolled)",
                    inv.dryRun() ? "" : ", " + c.batches() + " batch(es), " + c.durationMs() + " ms",
                    c.error() == null ? "" : " — " + c.error()));
        }
        for (Invocation.ClientNotStarted s : inv.notStarted()) {
            lines.add(String.format("  %-10s %s (%s): not started (budget spent, stop requested or paused)%s; goes first next run",
                    "waiting", s.clientName(), s.clientId(), s.workLeft() ? ", has leads to de-enroll" : ", nothing to do"));
        }
        if (!inv.abandonedClosed().isEmpty()) {
            lines.add(String.format("closed %d abandoned run(s) left 'running' by a crashed process", inv.abandonedClosed().size()));
        }
        return lines;
    }

    private static String outcomes(Counts counts) {
        return counts.outcomes().entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
                .collect(Collectors.joining(", "));
    }

    private static Map<String, Object> json(Invocation inv, int exitCode) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("invocationId", inv.invocationId().toString());
        doc.put("runType", inv.runType().sql());
        doc.put("dryRun", inv.dryRun());
        doc.put("status", inv.status().sql());
        doc.put("exitCode", exitCode);
        doc.put("durationMs", inv.durationMs());
        doc.put("totals", counts(inv.totals()));
        List<Map<String, Object>> clients = inv.clients().stream().map(c -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("clientId", c.clientId().toString());
            m.put("clientName", c.clientName());
            m.put("runId", c.runId() == null ? null : c.runId().toString());
            m.put("status", c.status().sql());
            m.putAll(counts(c.counts()));
            m.put("batches", c.batches());
            m.put("durationMs", c.durationMs());
            m.put("error", c.error());
            return m;
        }).toList();
        doc.put("clients", clients);
        doc.put("stopReason", inv.stopReason().sql());
        doc.put("clientsNotStarted", inv.notStarted().stream()
                .map(s -> Map.of("clientId", s.clientId().toString(), "clientName", s.clientName(), "workLeft", s.workLeft()))
                .toList());
        doc.put("abandonedRunsClosed", inv.abandonedClosed().stream().map(a -> a.runId().toString()).toList());
        return doc;
    }

    private static Map<String, Object> counts(Counts c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("leadsEvaluated", c.evaluated());
        m.put("leadsDeEnrolled", c.deEnrolled());
        m.put("leadsSkipped", c.skipped());
        m.put("leadsFailed", c.failed());
        m.put("byOutcome", c.outcomes());
        return m;
    }
}
