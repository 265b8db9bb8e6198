package deenroll.cli;

import deenroll.config.DatabaseTarget;
import deenroll.config.Settings;
import deenroll.db.Database;
import deenroll.db.Migrator;
import deenroll.engine.Engine;
import deenroll.engine.Invocation;
import deenroll.engine.RunRequest;
import deenroll.engine.RunType;
import deenroll.engine.StopSignal;
import deenroll.health.HealthCheck;
import deenroll.health.HealthReport;
import deenroll.health.Thresholds;
import deenroll.alert.AlertSink;
import deenroll.ops.EmbeddedServer;
import deenroll.ops.SampleData;
import org.flywaydb.core.api.output.MigrateResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "The tool on a fresh machine: an embedded PostgreSQL, the host schema, the migrations, sample data, a full run, the health report.",
        footerHeading = "%nExample:%n", footer = {"  ./deenroll demo --leads-per-campaign 500"})
final class DemoCommand implements Callable<Integer> {

    private final CliContext ctx;

    @Option(names = "--leads-per-campaign", paramLabel = "N", description = "sample leads per campaign, 16 campaigns (default 400)")
    String leadsPerCampaign;

    @Option(names = "--batch-size", paramLabel = "N", description = "leads per batch, 1-10000 (env DE_ENROLLMENT_BATCH_SIZE, default 100)")
    String batchSize;

    DemoCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() throws SQLException, IOException {
        int leadsPerCampaign = ctx.config.get(Settings.DEMO_LEADS_PER_CAMPAIGN, this.leadsPerCampaign);
        int batch = ctx.config.get(Settings.BATCH_SIZE, batchSize);
        long t0 = System.nanoTime();
        say("1/5 starting an embedded PostgreSQL (unpacked from the jar; first start takes a few seconds)…");
        try (EmbeddedServer server = EmbeddedServer.start()) {
            String url = server.jdbcUrl("postgres");
            try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE deenroll_demo");
            }
            DatabaseTarget target = DatabaseTarget.fromUrl(server.jdbcUrl("deenroll_demo"), "demo");
            say("2/5 creating the platform's host schema (clients, campaigns, leads) and sample data…");
            SampleData.Summary data;
            try (Connection c = DriverManager.getConnection(server.jdbcUrl("deenroll_demo")); Statement s = c.createStatement()) {
                s.execute(hostSchema());
                data = new SampleData().load(c, leadsPerCampaign);
            }
            say(String.format(Locale.ROOT, "    %d clients (one inactive), %d campaigns (one legacy template, one malformed), %d leads, %d of them finished their sequence",
                    data.clients(), data.campaigns(), data.leads(), data.finished()));
            try (Database db = Database.open(target, Duration.ofSeconds(10), Duration.ofMinutes(5))) {
                say("3/5 deenroll migrate (baseline at 18, then 19-" + Migrator.REQUIRED_VERSION + ")…");
                MigrateResult migrated = new Migrator(db.dataSource(), db.dsl()).migrate();
                migrated.migrations.forEach(m -> say("    applied " + m.version + " " + m.description));

                say("4/5 deenroll run (all clients, batch " + batch + ")…");
                Engine engine = Engine.on(db, AlertSink.NONE, ctx.clock, new StopSignal());
                long runStart = System.nanoTime();
                Invocation invocation = engine.run(new RunRequest(Optional.empty(), RunType.SCHEDULED, batch,
                        Duration.ofMinutes(4), ctx.config.get(Settings.LEASE, null), false, false));
                double seconds = (System.nanoTime() - runStart) / 1e9;
                RunReport.print(ctx, OutputFormat.text, invocation, RunCommand.exitCode(invocation));
                say(String.format(Locale.ROOT, "    %d leads de-enrolled in %.2f s (%.0f leads/s)",
                        invocation.totals().deEnrolled(), seconds, invocation.totals().deEnrolled() / seconds));

                say("5/5 deenroll health-check…");
                HealthReport health = new HealthCheck(db.dsl(), Thresholds.DEFAULTS).evaluate();
                ctx.out.println("De-enrollment health: " + health.level());
                health.findings().forEach(f -> ctx.out.println(f.line()));
                say(String.format(Locale.ROOT, "demo finished in %.1f s; the embedded database is removed now.",
                        (System.nanoTime() - t0) / 1e9));
                return RunCommand.exitCode(invocation);
            }
        }
    }

    private void say(String line) {
        ctx.out.println(line);
        ctx.out.flush();
    }

    private static String hostSchema() throws IOException {
        try (InputStream in = DemoCommand.class.getResourceAsStream("/host-schema.sql")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
