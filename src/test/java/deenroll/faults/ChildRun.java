package deenroll.faults;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** `deenroll` as a real child JVM, so it can be killed with SIGKILL or stopped with SIGTERM. */
public final class ChildRun implements AutoCloseable {

    private final Process process;
    private final Path output;

    private ChildRun(Process process, Path output) {
        this.process = process;
        this.output = output;
    }

    /** Against {@code databaseUrl} (directly or through a pooler), with {@code extraEnv} added to its environment. */
    public static ChildRun start(String databaseUrl, Map<String, String> extraEnv, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), "deenroll.cli.Main"));
        command.addAll(List.of(args));
        Path output = Files.createTempFile("deenroll-child-", ".log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
        builder.environment().clear();
        builder.environment().put("DATABASE_URL", databaseUrl);
        builder.environment().put("LOG_LEVEL", "warn");
        builder.environment().put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        builder.environment().putAll(extraEnv);
        return new ChildRun(builder.start(), output);
    }

    public void kill() {
        process.destroyForcibly(); // SIGKILL on Linux
    }

    public void terminate() {
        process.destroy(); // SIGTERM on Linux
    }

    /** The exit code, or -1 if it did not exit within {@code seconds}. */
    public int waitFor(long seconds) throws InterruptedException {
        return process.waitFor(seconds, TimeUnit.SECONDS) ? process.exitValue() : -1;
    }

    public String output() throws IOException {
        return Files.readString(output);
    }

    @Override
    public void close() {
        process.destroyForcibly();
        new File(output.toString()).delete();
    }
}
