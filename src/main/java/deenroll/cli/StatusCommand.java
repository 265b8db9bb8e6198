package deenroll.cli;

import deenroll.control.ClientInFlight;
import deenroll.control.LiveInvocation;
import deenroll.control.LiveInvocations;
import deenroll.control.Pause;
import deenroll.control.Pauses;
import deenroll.control.Timestamps;
import deenroll.ops.OpsReport;
import picocli.CommandLine.Command;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"The invocations of `deenroll run` running on this database, from any host: id, host, pid, run type, "
                + "start, heartbeat age, the client in flight, clients done of total, leads de-enrolled so far; and the pause state.",
                "It replaces the procedure's `ps aux | grep de-enroll`, which sees only the machine it is typed on.",
                "Invocations whose heartbeat is older than their lease (the process died) are closed as abandoned first, "
                        + "with their runs, and counted (JSON abandonedClosed: runs closed by this call)."},
        footerHeading = "%nExamples:%n",
        footer = {"  deenroll status", "  deenroll status --output json"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:status printed, whatever it shows", "2:usage error", "4:database unreachable or not migrated"})
final class StatusCommand extends OpsCommand {

    StatusCommand(CliContext ctx) {
        super(ctx);
    }

    @Override
    public Integer call() {
        return withDatabase(true, db -> {
            LiveInvocations.Listing live = new LiveInvocations(db.dsl()).list();
            return report(live, new Pauses(db.dsl()).current());
        });
    }

    private static OpsReport report(LiveInvocations.Listing live, Optional<Pause> pause) {
        List<String> lines = new ArrayList<>();
        if (live.invocations().isEmpty()) {
            lines.add("no invocation running");
        }
        live.invocations().forEach(i -> lines.add(line(i)));
        if (!live.abandonedClosed().isEmpty()) {
            lines.add("closed " + live.abandonedClosed().size()
                    + " abandoned run(s) left 'running' by a process that died (heartbeat older than its lease)");
        }
        lines.add(pause.map(p -> "⏸ paused " + p.since()
                + " (`deenroll resume` ends it)").orElse("not paused"));

        Map<String, Object> json = new LinkedHashMap<>();
        json.put("paused", pause.map(Pause::json).orElse(null));
        json.put("invocations", live.invocations().stream().map(StatusCommand::json).toList());
        json.put("abandonedClosed", live.abandonedClosed().size());
        return new OpsReport(lines, json, false);
    }

    private static String line(LiveInvocation i) {
        return String.format("%s %s on %s pid %d, started %s, %s (lease %s s)%s: %s, %d of %d client(s) done,"
                        + " %d lead(s) de-enrolled",
                i.invocationId(), i.runType(), i.host(), i.pid(), Timestamps.text(i.startedAt()),
                i.heartbeatAgeSeconds() == null ? "no heartbeat" : "heartbeat " + i.heartbeatAgeSeconds() + " s ago",
                seconds(i.lease()), i.ignoresPause() ? ", ignores the pause" : "",
                i.clientInFlight().map(c -> "client " + c.clientName() + " (" + c.clientId() + ") in flight")
                        .orElse("no client in flight"),
                i.clientsDone(), i.clientsTotal(), i.leadsDeEnrolled());
    }

    private static Map<String, Object> json(LiveInvocation i) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("invocationId", i.invocationId().toString());
        json.put("host", i.host());
        json.put("pid", i.pid());
        json.put("runType", i.runType());
        json.put("startedAt", Timestamps.json(i.startedAt()));
        json.put("heartbeatAgeSeconds", i.heartbeatAgeSeconds());
        json.put("leaseSeconds", seconds(i.lease()));
        json.put("clientInFlight", i.clientInFlight().map(StatusCommand::json).orElse(null));
        json.put("clientsDone", i.clientsDone());
        json.put("clientsTotal", i.clientsTotal());
        json.put("leadsDeEnrolled", i.leadsDeEnrolled());
        return json;
    }

    /** Whole seconds as an integer (90, not 90.000); a lease is set in ms, so it may have a fraction. */
    private static Number seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? Long.valueOf(d.toSeconds()) : BigDecimal.valueOf(d.toMillis(), 3).stripTrailingZeros();
    }

    private static Map<String, Object> json(ClientInFlight c) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("clientId", c.clientId().toString());
        json.put("clientName", c.clientName());
        return json;
    }
}
