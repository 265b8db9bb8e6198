package deenroll.cli;

import deenroll.db.Database;
import deenroll.db.Migrator;
import org.flywaydb.core.api.output.MigrateResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "migrate", mixinStandardHelpOptions = true,
        description = "Apply the database migrations (Flyway). On the platform's existing database, baseline at version 18 first.",
        footerHeading = "%nExample:%n",
        footer = {"  DATABASE_URL=postgres://deenroll@db:5432/app deenroll migrate"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:the schema is at the latest version", "1:a migration failed (its transaction rolled back)",
                "2:usage error", "4:database unreachable, or not the platform's database"})
final class MigrateCommand implements Callable<Integer> {

    private final CliContext ctx;

    @Mixin
    CommonOptions common = new CommonOptions();

    MigrateCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        CliContext.Settings settings = ctx.settings(common);
        try (Database db = ctx.open(settings)) {
            MigrateResult result = new Migrator(db.dataSource(), db.dsl()).migrate();
            if (common.output == OutputFormat.json) {
                Map<String, Object> doc = new LinkedHashMap<>();
                doc.put("initialVersion", result.initialSchemaVersion);
                doc.put("targetVersion", result.targetSchemaVersion);
                doc.put("applied", result.migrations.stream().map(m -> m.version + " " + m.description).toList());
                ctx.printJson(doc);
            } else if (result.migrationsExecuted == 0) {
                ctx.out.println("schema is up to date (version " + Migrator.REQUIRED_VERSION + ")");
            } else {
                result.migrations.forEach(m -> ctx.out.printf("applied %s %s (%d ms)%n", m.version, m.description, m.executionTime));
                ctx.out.println("schema is now at version " + result.targetSchemaVersion);
            }
            ctx.out.flush();
            return ExitCode.OK;
        }
    }
}
