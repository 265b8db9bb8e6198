package deenroll.support;

import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real PgBouncer (Debian's 1.18) in front of the test suite's PostgreSQL
 * server, in transaction pooling mode, as the platform may put one in front of
 * the job: each transaction of a client may run on another server connection,
 * so nothing that lives in a session (advisory locks, named prepared
 * statements, SET, startup options) survives from one transaction to the next.
 * <p>
 * It runs as a child process on a free loopback port, with its own config in a
 * temp dir, and as {@code nobody} when the suite runs as root (PgBouncer refuses
 * to run as root). Every database name of the server is reachable through it.
 * {@link #close()} stops it; so does a shutdown hook, and a watchdog process
 * kills it should this JVM die without running either.
 */
public final class PgBouncer implements AutoCloseable {

    /** The {@code ignore_startup_parameters} settings a deployment has in practice. */
    public enum IgnoredStartupParameters {
        /** The common one: pgjdbc (and others) send extra_float_digits, so it must be ignored; {@code options} is refused. */
        EXTRA_FLOAT_DIGITS("extra_float_digits"),
        /** Also lets {@code options} through the login, and drops it: its settings never reach the server. */
        EXTRA_FLOAT_DIGITS_AND_OPTIONS("extra_float_digits,options");

        private final String value;

        IgnoredStartupParameters(String value) {
            this.value = value;
        }

        @Override
        public String toString() {
            return "ignore_startup_parameters=" + value;
        }
    }

    private static final String NON_ROOT_USER = "nobody";
    private static final long START_TIMEOUT_MS = 15_000;

    private final Process process;
    private final Process watchdog;
    private final Path dir;
    private final int port;
    private final String user;
    private final Thread shutdownHook;

    private PgBouncer(Process process, Process watchdog, Path dir, int port, String user) {
        this.process = process;
        this.watchdog = watchdog;
        this.dir = dir;
        this.port = port;
        this.user = user;
        this.shutdownHook = new Thread(this::stop, "pgbouncer-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** Whether the binary is there (installing it first when this JVM may: see {@link PgBouncerBinary}). */
    public static boolean available() {
        return PgBouncerBinary.path() != null;
    }

    /** Skips the calling test, with the reason, when there is no pgbouncer. */
    public static void assumeAvailable() {
        Assumptions.assumeTrue(available(), () -> "pgbouncer not installed: " + PgBouncerBinary.problem());
    }

    /**
     * Starts one in front of {@link TestPostgres#get()}, with at most {@code poolSize}
     * server connections per database and user; skips the calling test when there is no pgbouncer.
     */
    public static PgBouncer start(int poolSize, IgnoredStartupParameters ignored) {
        assumeAvailable();
        Server server = Server.of(TestPostgres.get().jdbcUrl("postgres"));
        try {
            Path dir = Files.createTempDirectory("deenroll-pgbouncer-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            Files.writeString(world(dir.resolve("users.txt")), quote(server.user()) + " "
                    + quote(server.password() == null ? "" : server.password()) + "\n");
            // a port found free may be taken before PgBouncer binds it: then try another
            for (int attempt = 1; ; attempt++) {
                int port = freePort();
                Files.writeString(world(dir.resolve("pgbouncer.ini")), config(server, dir, port, poolSize, ignored));
                Process process = launch(dir);
                String problem = awaitListening(process, dir);
                if (problem == null) {
                    return new PgBouncer(process, watchdog(process), dir, port, server.user());
                }
                process.destroyForcibly().waitFor();
                if (attempt == 3 || !problem.contains("Address already in use")) {
                    deleteTree(dir);
                    throw new IllegalStateException("pgbouncer did not start: " + problem);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("pgbouncer did not start: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting pgbouncer", e);
        }
    }

    /** A URL to {@code database} through this PgBouncer (it asks for no password: auth_type trust). */
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database + "?user="
                + URLEncoder.encode(user, StandardCharsets.UTF_8);
    }

    public String jdbcUrl(TestDatabase db) {
        return jdbcUrl(db.name());
    }

    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or about to: it stops the process itself
        }
        stop();
    }

    private synchronized void stop() {
        // the watchdog first, so it cannot kill whatever process gets PgBouncer's pid next
        watchdog.destroyForcibly();
        process.destroy(); // SIGTERM: PgBouncer's immediate shutdown
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
            watchdog.waitFor();
            deleteTree(dir);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // a temp dir left behind is harmless; the process is gone
        }
    }

    private static String config(Server server, Path dir, int port, int poolSize, IgnoredStartupParameters ignored) {
        return String.join("\n",
                "[databases]",
                // the fallback entry: any database name the client asks for, on the suite's server
                "* = host=" + server.host() + " port=" + server.port(),
                "",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                "listen_port = " + port,
                // no Unix socket: nothing of ours in /tmp or /var/run for other instances to collide with
                "unix_socket_dir =",
                // trust still wants the user in auth_file; its password (if any) is what PgBouncer logs in with
                "auth_type = trust",
                "auth_file = " + dir.resolve("users.txt"),
                "pool_mode = transaction",
                "default_pool_size = " + poolSize,
                "max_client_conn = 200",
                "ignore_startup_parameters = " + ignored.value,
                "");
    }

    private static Process launch(Path dir) throws IOException {
        List<String> command = new ArrayList<>(List.of(PgBouncerBinary.path().toString()));
        if (PgBouncerBinary.runningAsRoot()) {
            command.addAll(List.of("-u", NON_ROOT_USER)); // PgBouncer refuses to run as root
        }
        command.add(dir.resolve("pgbouncer.ini").toString());
        // not daemonized and no logfile: it logs to stderr, which goes to the log file
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("pgbouncer.log").toFile())
                .redirectInput(new File("/dev/null"))
                .start();
    }

    /** Null once PgBouncer listens; else what went wrong, with its log. */
    private static String awaitListening(Process process, Path dir) throws IOException, InterruptedException {
        Path log = dir.resolve("pgbouncer.log");
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
        while (System.currentTimeMillis() < deadline) {
            String text = Files.readString(log);
            if (!process.isAlive()) {
                return "exit " + process.exitValue() + ":\n" + text;
            }
            // logged once the socket is bound and accepting, by PgBouncer itself, so never another process's port
            if (text.contains("process up")) {
                return null;
            }
            Thread.sleep(20);
        }
        return "not up after " + START_TIMEOUT_MS + " ms:\n" + Files.readString(log);
    }

    /**
     * A shell that waits for its stdin (a pipe from this JVM) to close, then
     * kills PgBouncer: the kernel closes the pipe however this JVM ends, even
     * by SIGKILL, when no shutdown hook runs. {@code read} and {@code kill} are
     * shell builtins, so killing the shell leaves nothing behind.
     */
    private static Process watchdog(Process pgbouncer) throws IOException {
        return new ProcessBuilder("/bin/sh", "-c", "read -r _; kill -KILL " + pgbouncer.pid() + " 2>/dev/null")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Readable by the non-root user PgBouncer runs as. */
    private static Path world(Path file) throws IOException {
        if (!Files.exists(file)) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")));
        }
        return file;
    }

    /** auth_file's format: double quotes around, a double quote inside doubled. */
    private static String quote(String value) {
        return '"' + value.replace("\"", "\"\"") + '"';
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Where the suite's server is and who logs in, from its JDBC URL. */
    private record Server(String host, int port, String user, String password) {

        static Server of(String jdbcUrl) {
            URI uri = URI.create(jdbcUrl.substring("jdbc:".length()));
            Map<String, String> query = new HashMap<>();
            if (uri.getRawQuery() != null) {
                for (String pair : uri.getRawQuery().split("&")) {
                    String[] kv = pair.split("=", 2);
                    query.put(kv[0], kv.length > 1 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
                }
            }
            return new Server(uri.getHost(), uri.getPort() < 0 ? 5432 : uri.getPort(),
                    query.getOrDefault("user", "postgres"), query.get("password"));
        }
    }
}
