package deenroll.support;

import deenroll.config.DatabaseTarget;
import deenroll.db.Database;
import deenroll.db.Migrator;
import deenroll.ops.EmbeddedServer;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The PostgreSQL server of the test suite (DESIGN §5): the one named by
 * {@code DEENROLL_TEST_DATABASE_URL} (a jdbc:postgresql: URL of a user allowed to
 * create databases) if set; else a Testcontainers {@code postgres} container where
 * a Docker engine is present; else an embedded server started once per JVM
 * (the binaries on the classpath, or the jar named by
 * {@code -Ddeenroll.test.pg.binaries}: that is how the build runs the
 * {@code compat} tests on PostgreSQL 12 and 18 as well).
 * Each test gets its own database, copied from a template that holds the host
 * schema and, for {@link #migrated()}, the tool's migrations applied by Flyway.
 */
public final class TestPostgres {

    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private static TestPostgres instance;

    private final String adminUrl;
    private final String urlPrefix;
    private final String urlSuffix;
    private boolean templatesReady;

    private TestPostgres(String adminUrl, String urlPrefix, String urlSuffix) {
        this.adminUrl = adminUrl;
        this.urlPrefix = urlPrefix;
        this.urlSuffix = urlSuffix;
    }

    public static synchronized TestPostgres get() {
        if (instance == null) {
            String explicit = System.getenv("DEENROLL_TEST_DATABASE_URL");
            if (explicit != null && !explicit.isBlank()) {
                int slash = explicit.indexOf('/', "jdbc:postgresql://".length());
                int query = explicit.indexOf('?');
                String prefix = explicit.substring(0, slash + 1);
                String suffix = query >= 0 ? explicit.substring(query) : "";
                instance = new TestPostgres(explicit, prefix, suffix);
            } else if (dockerAvailable()) {
                PostgreSQLContainer<?> container = new PostgreSQLContainer<>(
                        "postgres:" + System.getProperty("deenroll.test.postgres.image", "17"));
                container.start();
                Runtime.getRuntime().addShutdownHook(new Thread(container::stop));
                String auth = "?user=" + container.getUsername() + "&password=" + container.getPassword();
                String prefix = "jdbc:postgresql://" + container.getHost() + ":"
                        + container.getMappedPort(PostgreSQLContainer.POSTGRESQL_PORT) + "/";
                instance = new TestPostgres(prefix + "postgres" + auth, prefix, auth);
            } else {
                String binaries = System.getProperty("deenroll.test.pg.binaries", "");
                EmbeddedServer server = EmbeddedServer.start(binaries.isBlank() ? null : Path.of(binaries));
                Runtime.getRuntime().addShutdownHook(new Thread(server::close));
                instance = new TestPostgres(server.jdbcUrl("postgres"),
                        "jdbc:postgresql://localhost:" + server.port() + "/", "?user=postgres");
            }
        }
        return instance;
    }

    /** Testcontainers only where a Docker engine answers; our machines and CI have none. */
    private static boolean dockerAvailable() {
        if (!Boolean.parseBoolean(System.getProperty("deenroll.test.docker", "true"))) {
            return false;
        }
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    /** A new database holding the host schema and every migration. */
    public TestDatabase migrated() {
        return copyOf("deenroll_tpl_migrated");
    }

    /** A new database holding only the host schema, as production looks before `migrate`. */
    public TestDatabase hostOnly() {
        return copyOf("deenroll_tpl_host");
    }

    /** A new, empty database. */
    public TestDatabase empty() {
        String name = nextName();
        execute("CREATE DATABASE " + name);
        return new TestDatabase(this, name);
    }

    public String jdbcUrl(String database) {
        return urlPrefix + database + urlSuffix;
    }

    public DatabaseTarget target(String database) {
        return DatabaseTarget.fromUrl(jdbcUrl(database), "test");
    }

    void drop(String database) {
        // DROP DATABASE ... WITH (FORCE) needs PostgreSQL 13; the suite also runs on 12
        execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + database + "'");
        execute("DROP DATABASE IF EXISTS " + database);
    }

    private synchronized TestDatabase copyOf(String template) {
        ensureTemplates();
        String name = nextName();
        execute("CREATE DATABASE " + name + " TEMPLATE " + template);
        return new TestDatabase(this, name);
    }

    private void ensureTemplates() {
        if (templatesReady) {
            return;
        }
        for (String template : new String[] {"deenroll_tpl_host", "deenroll_tpl_migrated"}) {
            execute("DROP DATABASE IF EXISTS " + template);
            execute("CREATE DATABASE " + template);
            executeIn(template, hostSchema());
        }
        try (Database db = Database.open(target("deenroll_tpl_migrated"), Duration.ofSeconds(10), Duration.ofMinutes(5))) {
            new Migrator(db.dataSource(), db.dsl()).migrate();
        }
        templatesReady = true;
    }

    public static String hostSchema() {
        try (InputStream in = TestPostgres.class.getResourceAsStream("/host-schema.sql")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String nextName() {
        return "t_" + ProcessHandle.current().pid() + "_" + SEQUENCE.incrementAndGet();
    }

    private void execute(String sql) {
        try (Connection c = DriverManager.getConnection(adminUrl); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    void executeIn(String database, String sql) {
        try (Connection c = DriverManager.getConnection(jdbcUrl(database)); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }
}
