package deenroll.deploy;

import com.fasterxml.jackson.databind.ObjectMapper;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The checkout's launcher (./deenroll) and its start-up caches, in real processes:
 * on a JDK 24 or later the first `run` that reaches its work trains the
 * ahead-of-time cache and every later start maps it; a run that does not reach
 * its work leaves none; a SIGTERM during the training run reaches the JVM; on
 * JDK 17 the launcher keeps to the class-data archive. The launcher runs in a
 * copy of the checkout whose target/deenroll.jar is made here from the compiled
 * classes (its manifest names the dependency jars), so no build runs inside the test.
 * Skipped, saying so, when no JDK 24+ is installed (JAVA_HOME of one in
 * DEENROLL_TEST_AOT_JAVA_HOME, else the first under /usr/lib/jvm).
 */
class LauncherCacheTest {

    private static final String TRAINS = "this run also trains the ahead-of-time cache";

    @TempDir
    static Path checkout;

    private static Path aot;

    @BeforeAll
    static void aCheckoutWithItsJar() throws IOException {
        Files.createDirectories(checkout.resolve("target"));
        Files.createDirectories(checkout.resolve("src/main/cds"));
        Files.copy(Path.of("deenroll"), checkout.resolve("deenroll"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.copy(Path.of("src/main/cds/deenroll.classlist"), checkout.resolve("src/main/cds/deenroll.classlist"));
        jar(checkout.resolve("target/deenroll.jar"));
        aot = checkout.resolve("target/deenroll.aot");
    }

    @Test
    void onAJdk24OrLaterTheFirstRunTrainsTheCacheAndTheNextStartMapsIt() throws Exception {
        Path javaHome = jdk24OrSkip();
        clean();
        try (TestDatabase db = withEligibleLeads(120)) {
            Result training = launcher(javaHome, db, Map.of(), "run", "--output", "json", "--batch-size", "50");
            assertThat(training.exit).as(training.stderr).isZero();
            assertThat(training.stderr).contains(TRAINS).doesNotContain("[warning]").doesNotContain("[error");
            assertThat(new ObjectMapper().readTree(training.stdout).path("totals").path("leadsDeEnrolled").asInt())
                    .as(training.stdout).isEqualTo(120);
            assertThat(aot).isRegularFile();
            assertThat(Files.readString(checkout.resolve("target/deenroll.aot.java")).strip())
                    .isEqualTo(javaHome.resolve("bin/java").toRealPath().toString());
            try (Stream<Path> left = Files.list(checkout.resolve("target"))) {
                assertThat(left.map(p -> p.getFileName().toString()))
                        .noneMatch(name -> name.endsWith(".conf") || name.startsWith("hs_err") || name.matches("deenroll\\.aot\\.\\d+"));
            }
            long made = Files.getLastModifiedTime(aot).toMillis();

            Result next = launcher(javaHome, db, Map.of(), "run", "--output", "json");
            assertThat(next.exit).as(next.stderr).isZero();
            assertThat(next.stderr).doesNotContain(TRAINS).doesNotContain("[warning]").doesNotContain("[error");
            assertThat(new ObjectMapper().readTree(next.stdout).path("status").asText()).isEqualTo("success");
            assertThat(Files.getLastModifiedTime(aot).toMillis()).isEqualTo(made);
            assertThat(maps(checkout.resolve("deenroll"), javaHome, aot)).as("a later start's JVM has the cache mapped").isTrue();
        }
    }

    /** Whether the JVM that {@code launcher} starts (waiting on a silent database) has {@code file} in its memory maps. */
    private static boolean maps(Path launcher, Path javaHome, Path file) throws Exception {
        try (ServerSocket silent = silentServer()) {
            Process p = builder(launcher, javaHome, null, Map.of(), "run", "--database-url",
                    "postgres://deenroll@127.0.0.1:" + silent.getLocalPort() + "/none", "--connect-timeout", "60000")
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try {
                Path maps = Path.of("/proc", String.valueOf(p.pid()), "maps");
                for (int i = 0; i < 200 && p.isAlive(); i++) {
                    // the launcher execs the JVM: same process
                    if (Files.readString(maps).contains(file.toString())) {
                        return true;
                    }
                    Thread.sleep(50);
                }
                return false;
            } finally {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** A server socket that accepts no connection: a client waits out its own timeout. */
    private static ServerSocket silentServer() throws IOException {
        return new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    }

    @Test
    void aRunThatDoesNotReachItsWorkTrainsNothingAndKeepsItsExitCode() throws Exception {
        Path javaHome = jdk24OrSkip();
        clean();
        Result unreachable = launcher(javaHome, null, Map.of(), "run", "--output", "json",
                "--database-url", "postgres://deenroll@127.0.0.1:1/none", "--connect-timeout", "1000");
        assertThat(unreachable.exit).as(unreachable.stderr).isEqualTo(4);
        assertThat(unreachable.stderr).contains(TRAINS)
                .contains("no ahead-of-time cache from this run (exit 4: not a run that did its work); the next run trains again");
        assertThat(aot).doesNotExist();
        assertThat(checkout.resolve("target/deenroll.aot.failed")).doesNotExist();
    }

    @Test
    void aSigtermDuringTheTrainingRunReachesTheJvm() throws Exception {
        Path javaHome = jdk24OrSkip();
        clean();
        try (ServerSocket silent = silentServer()) {
            ProcessBuilder builder = builder(javaHome, null, Map.of(), "run", "--output", "json", "--database-url",
                    "postgres://deenroll@127.0.0.1:" + silent.getLocalPort() + "/none", "--connect-timeout", "60000");
            Path err = checkout.resolve("sigterm.err");
            Process launcher = builder.redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile()).start();
            ProcessHandle jvm = null;
            for (int i = 0; i < 200 && jvm == null; i++) {
                jvm = launcher.toHandle().children()
                        .filter(c -> c.info().command().orElse("").endsWith("/bin/java")).findFirst().orElse(null);
                Thread.sleep(50);
            }
            assertThat(jvm).as("the training run's JVM, a child of the launcher").isNotNull();
            Thread.sleep(1500);
            new ProcessBuilder("kill", "-TERM", String.valueOf(launcher.pid())).start().waitFor();
            assertThat(launcher.waitFor(30, TimeUnit.SECONDS)).as(Files.readString(err)).isTrue();
            assertThat(jvm.onExit().get(10, TimeUnit.SECONDS).isAlive()).as("the JVM ends with the launcher").isFalse();
            assertThat(launcher.exitValue()).as(Files.readString(err)).isNotZero();
            assertThat(aot).doesNotExist();
        }
    }

    @Test
    void theInstalledLauncherMapsTheCacheTheInstallStepMakesForItsJvmOnly() throws Exception {
        Path javaHome = jdk24OrSkip();
        Path opt = checkout.resolve("opt");
        Files.createDirectories(opt);
        Path launcher = opt.resolve("deenroll");
        Files.copy(Path.of("deploy/deenroll"), launcher, StandardCopyOption.COPY_ATTRIBUTES, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(checkout.resolve("target/deenroll.jar"), opt.resolve("deenroll.jar"), StandardCopyOption.REPLACE_EXISTING);
        Path cache = opt.resolve("deenroll.aot");
        Path jsa = opt.resolve("deenroll.jsa");
        try (TestDatabase db = withEligibleLeads(10)) {
            // docs/deploy.md, Install: the archive, then the cache from one dry run, and the JVM it is for
            String java = javaHome.resolve("bin/java").toString();
            List<String> flags = List.of("-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
            exec(null, java, flags, "-Xshare:dump", "-XX:SharedClassListFile=src/main/cds/deenroll.classlist",
                    "-XX:SharedArchiveFile=" + jsa, "-cp", opt.resolve("deenroll.jar").toString());
            exec(db, java, flags, "-Xlog:aot*=error", "-XX:AOTCacheOutput=" + cache,
                    "-jar", opt.resolve("deenroll.jar").toString(), "run", "--dry-run");
            assertThat(cache).isRegularFile();
            Files.writeString(opt.resolve("deenroll.aot.java"), javaHome.resolve("bin/java").toRealPath() + "\n");

            Process p = builder(launcher, javaHome, db, Map.of(), "run", "--output", "json")
                    .redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes());
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(output).isZero();
            assertThat(output).doesNotContain("[warning]").doesNotContain("[error");
            assertThat(maps(launcher, javaHome, cache)).as("the installed launcher's JVM maps the cache").isTrue();

            // a cache made for another JVM is left alone: the archive is used
            Files.writeString(opt.resolve("deenroll.aot.java"), "/usr/lib/jvm/another/bin/java\n");
            assertThat(maps(launcher, javaHome, cache)).as("a cache for another JVM").isFalse();
            assertThat(maps(launcher, javaHome, jsa)).as("the archive instead").isTrue();
        }
    }

    private static void exec(TestDatabase db, String java, List<String> flags, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(java));
        command.addAll(flags);
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        if (db != null) {
            builder.environment().put("DATABASE_URL", db.jdbcUrl());
        }
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        Process p = builder.start();
        String output = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("%s: %s", command, output).isZero();
    }

    @Test
    void onJdk17TheLauncherKeepsToTheClassDataArchive() throws Exception {
        Path javaHome = Path.of(System.getProperty("java.home"));
        assumeTrue(Runtime.version().feature() < 24, "the tests' JVM is a JDK " + Runtime.version().feature());
        clean();
        try (TestDatabase db = withEligibleLeads(10)) {
            Result run = launcher(javaHome, db, Map.of(), "run", "--output", "json");
            assertThat(run.exit).as(run.stderr).isZero();
            assertThat(run.stderr).doesNotContain(TRAINS).doesNotContain("ahead-of-time");
            assertThat(aot).doesNotExist();
            assertThat(checkout.resolve("target/deenroll.jsa")).isRegularFile();
        }
    }

    private record Result(int exit, String stdout, String stderr) {
    }

    private static Result launcher(Path javaHome, TestDatabase db, Map<String, String> env, String... args) throws Exception {
        Path out = checkout.resolve("launcher.out");
        Path err = checkout.resolve("launcher.err");
        Process p = builder(javaHome, db, env, args).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(180, TimeUnit.SECONDS)).as("the launcher ended").isTrue();
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    private static ProcessBuilder builder(Path javaHome, TestDatabase db, Map<String, String> env, String... args) {
        return builder(checkout.resolve("deenroll"), javaHome, db, env, args);
    }

    private static ProcessBuilder builder(Path launcher, Path javaHome, TestDatabase db, Map<String, String> env, String... args) {
        List<String> command = new ArrayList<>(List.of(launcher.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        builder.environment().clear();
        builder.environment().put("JAVA_HOME", javaHome.toString());
        builder.environment().put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        builder.environment().put("LOG_LEVEL", "warn");
        if (db != null) {
            builder.environment().put("DATABASE_URL", db.jdbcUrl());
        }
        builder.environment().putAll(env);
        return builder;
    }

    private static void clean() throws IOException {
        try (Stream<Path> files = Files.list(checkout.resolve("target"))) {
            for (Path f : files.filter(p -> !p.getFileName().toString().equals("deenroll.jar")).toList()) {
                Files.delete(f);
            }
        }
    }

    private static TestDatabase withEligibleLeads(int leads) {
        TestDatabase db = TestPostgres.get().migrated();
        Fixtures f = new Fixtures(db.db().dsl());
        UUID acme = f.client("Acme");
        f.leads(acme, f.campaign(acme, 2), 2, leads);
        f.recount();
        return db;
    }

    /** The home of a JDK 24 or later; the test is skipped, saying why, when there is none. */
    private static Path jdk24OrSkip() throws IOException {
        Optional<Path> home = jdk24();
        assumeTrue(home.isPresent(), "no JDK 24 or later installed (DEENROLL_TEST_AOT_JAVA_HOME, /usr/lib/jvm): the ahead-of-time cache needs one");
        return home.get();
    }

    /** A JDK 24 or later: DEENROLL_TEST_AOT_JAVA_HOME, else the first one under /usr/lib/jvm. */
    private static Optional<Path> jdk24() throws IOException {
        String given = System.getenv("DEENROLL_TEST_AOT_JAVA_HOME");
        if (given != null && !given.isBlank()) {
            return Optional.of(Path.of(given)).filter(LauncherCacheTest::isJdk24OrLater);
        }
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return Optional.empty();
        }
        try (Stream<Path> homes = Files.list(jvms)) {
            return homes.filter(h -> !Files.isSymbolicLink(h)).filter(LauncherCacheTest::isJdk24OrLater).sorted().findFirst();
        }
    }

    private static boolean isJdk24OrLater(Path home) {
        Path release = home.resolve("release");
        if (!Files.isExecutable(home.resolve("bin/java")) || !Files.isRegularFile(release)) {
            return false;
        }
        try {
            return Files.readAllLines(release).stream().filter(l -> l.startsWith("JAVA_VERSION=\""))
                    .map(l -> l.substring("JAVA_VERSION=\"".length()).replaceAll("[^0-9].*", ""))
                    .anyMatch(v -> !v.isEmpty() && Integer.parseInt(v) >= 24);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The tool's jar: the compiled classes, and a manifest naming its main class and,
     * as absolute URLs, every jar on this JVM's class path (the archives map jars, not directories).
     */
    private static void jar(Path target) throws IOException {
        List<String> classPath = new ArrayList<>();
        Path classes = null;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry).toAbsolutePath();
            if (Files.isDirectory(p) && p.endsWith(Path.of("target", "classes"))) {
                classes = p;
            } else if (Files.isRegularFile(p) && p.toString().endsWith(".jar")) {
                classPath.add(p.toUri().toString());
            }
        }
        assertThat(classes).as("target/classes on the tests' class path").isNotNull();
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "deenroll.cli.Main");
        manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, String.join(" ", classPath));
        Path root = classes;
        try (OutputStream file = Files.newOutputStream(target); JarOutputStream jar = new JarOutputStream(file, manifest);
             Stream<Path> all = Files.walk(root)) {
            for (Path p : all.filter(Files::isRegularFile).sorted().toList()) {
                jar.putNextEntry(new JarEntry(root.relativize(p).toString().replace(File.separatorChar, '/')));
                Files.copy(p, jar);
                jar.closeEntry();
            }
        }
    }
}
