package deenroll.cli;

import deenroll.config.Settings;
import deenroll.db.Database;
import deenroll.db.Migrator;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.output.MigrateResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "migrate", mixinStandardHelpOptions = true,
        description = {"Apply the database migrations (Flyway). On the platform's existing database, baseline at version 18 first.",
                "Each migration waits at most --lock-timeout for a lock on a table: behind a long transaction it gives up "
                        + "(exit 1) rather than block every query on the table while it waits; it is then rolled back whole, "
                        + "and running `migrate` again, once the transaction is over, continues where it stopped.",
                "An index on a host table is built CONCURRENTLY before its migration: host reads and writes continue, "
                        + "and the build waits (without limit) for the transactions open in the database to end. "
                        + "One an interrupted build left invalid is dropped and built again."},
        footerHeading = "%nExample:%n",
        footer = {"  DATABASE_URL=postgres://deenroll@db:5432/app deenroll migrate"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:the schema is at the latest version", "1:a migration failed or hit --lock-timeout (its transaction rolled back; run migrate again), or an index build failed",
                "2:usage error", "4:database unreachable, or not the platform's database"})
final class MigrateCommand implements Callable<Integer> {

    private final CliContext ctx;

    @Mixin
    CommonOptions common = new CommonOptions();

    @Option(names = "--lock-timeout", paramLabel = "MS",
            description = "how long each migration may wait for a lock, in ms, 0 = no limit (env DE_ENROLLMENT_LOCK_TIMEOUT, default 10000)")
    String lockTimeout;

    MigrateCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        Duration lock = ctx.config.get(Settings.LOCK_TIMEOUT, lockTimeout);
        CliContext.Settings settings = ctx.settings(common);
        try (Database db = ctx.open(settings)) {
            MigrateResult result;
            try {
                result = new Migrator(db.dataSource(), db.dsl(), lock).migrate();
            } catch (FlywayException e) {
                if (!Migrator.lockTimedOut(e)) {
                    throw e;
                }
                ctx.err.println("migrate: a migration waited longer than --lock-timeout (" + lock.toMillis() + " ms) for a lock"
                        + " on a table another transaction holds; it was rolled back, nothing of it is applied."
                        + " Run `deenroll migrate` again once that transaction is over (pg_stat_activity shows it)");
                ctx.err.flush();
                return ExitCode.FAILED;
            }
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
