package deenroll.support;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's {@code pgbouncer} binary (1.18 on Debian 12). When it is missing and
 * this JVM runs as root with apt-get at hand (CI, our machines), it is installed
 * once per JVM, as .ci/run does before the build; anywhere else the tests that
 * need it are skipped with {@link #problem()} as the reason.
 */
final class PgBouncerBinary {

    private static final Path DEBIAN = Path.of("/usr/sbin/pgbouncer");

    private static boolean looked;
    private static Path path;
    private static String problem;

    private PgBouncerBinary() {
    }

    /** The binary, or null when there is none (then {@link #problem()} says why). */
    static synchronized Path path() {
        if (!looked) {
            looked = true;
            path = find();
            if (path == null) {
                problem = install();
                path = find();
                if (path == null && problem == null) {
                    problem = "apt-get installed pgbouncer, but there is no binary in /usr/sbin or on PATH";
                }
            }
        }
        return path;
    }

    static synchronized String problem() {
        path();
        return problem;
    }

    /** The owner of /proc/self is this process's effective user. */
    static boolean runningAsRoot() {
        try {
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    private static Path find() {
        return Files.isExecutable(DEBIAN) ? DEBIAN : onPath("pgbouncer");
    }

    private static Path onPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /** Null when apt-get succeeded, else why the binary cannot be had. */
    private static String install() {
        if (!runningAsRoot()) {
            return "no pgbouncer in /usr/sbin or on PATH, and not root to install it (apt-get install pgbouncer)";
        }
        if (onPath("apt-get") == null) {
            return "no pgbouncer in /usr/sbin or on PATH, and no apt-get to install it";
        }
        try {
            AptResult result = apt("install", "-y", "-qq", "pgbouncer");
            // a machine whose package lists were never fetched knows no pgbouncer yet
            if (result.code() != 0 && (result.output().contains("Unable to locate package")
                    || result.output().contains("has no installation candidate"))) {
                apt("update", "-qq");
                result = apt("install", "-y", "-qq", "pgbouncer");
            }
            return result.code() == 0 ? null : "apt-get install pgbouncer failed (exit " + result.code() + "): "
                    + result.output().strip().replace('\n', ' ');
        } catch (IOException e) {
            return "apt-get install pgbouncer failed: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while installing pgbouncer";
        }
    }

    private record AptResult(int code, String output) {
    }

    private static AptResult apt(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("apt-get"));
        command.addAll(List.of(args));
        Path output = Files.createTempFile("deenroll-apt-", ".log");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(output.toFile()).redirectInput(new File("/dev/null"));
            builder.environment().put("DEBIAN_FRONTEND", "noninteractive");
            Process process = builder.start();
            if (!process.waitFor(10, TimeUnit.MINUTES)) {
                process.destroyForcibly().waitFor();
                return new AptResult(-1, String.join(" ", command) + " did not finish within 10 minutes");
            }
            return new AptResult(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(output);
        }
    }
}
