package deenroll.deploy;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * deploy/deenroll-env and the cron lines that use it: the env file's values
 * reach deenroll exactly as written. A shell's `.` would have ended this
 * DATABASE_URL at its `&` (and run the rest as a background command).
 */
class EnvFileTest {

    private static final String DATABASE_URL =
            "postgres://deenroll:pa$HOME;x@db.internal:5432/app?sslmode=verify-full&sslrootcert=/etc/deenroll/root.crt";

    @TempDir
    Path dir;
    private Path envFile;

    @BeforeEach
    void install() throws IOException {
        Files.copy(Path.of("deploy/deenroll-env"), dir.resolve("deenroll-env"), StandardCopyOption.COPY_ATTRIBUTES);
        Path launcher = dir.resolve("deenroll");
        Files.writeString(launcher, """
                #!/bin/sh
                printf 'args=%s\\n' "$*"
                printf 'DATABASE_URL=%s\\n' "$DATABASE_URL"
                printf 'DE_ENROLLMENT_BATCH_SIZE=%s\\n' "${DE_ENROLLMENT_BATCH_SIZE-unset}"
                exit "${STUB_EXIT:-0}"
                """);
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwx------"));
        envFile = dir.resolve("deenroll.env");
        Files.writeString(envFile, "# the secrets\nDATABASE_URL=" + DATABASE_URL + "\n\n"
                + "DE_ENROLLMENT_BATCH_SIZE=50");
    }

    @Test
    void theCommandGetsEachValueAsWrittenAndItsExitStatusIsKept() throws Exception {
        Files.writeString(envFile, Files.readString(envFile) + "\nSTUB_EXIT=3\n");
        Result r = sh(List.of(dir.resolve("deenroll-env").toString(), envFile.toString(),
                dir.resolve("deenroll").toString(), "run", "--output", "json"));

        assertThat(r.out()).isEqualTo("args=run --output json\nDATABASE_URL=" + DATABASE_URL + "\nDE_ENROLLMENT_BATCH_SIZE=50\n");
        assertThat(r.exitCode()).as("the command's own exit status").isEqualTo(3);
    }

    @Test
    void anUnreadableEnvFileRunsNothingAndSaysWhich() throws Exception {
        Result r = sh(List.of(dir.resolve("deenroll-env").toString(), dir.resolve("missing.env").toString(),
                dir.resolve("deenroll").toString(), "run"));

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).startsWith("deenroll-env: cannot read " + dir.resolve("missing.env"));
    }

    /** Each job of deploy/cron/deenroll.cron, as cron runs it, with the install paths moved into the test's folder. */
    @Test
    void everyCronJobRunsDeenrollWithTheWholeDatabaseUrl() throws Exception {
        List<String> jobs = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("deploy/cron/deenroll.cron"))) {
            if (line.isBlank() || line.startsWith("#") || line.matches("^[A-Z_]+=.*")) {
                continue;
            }
            // five time fields and the user, then the command; syslog is not this test's business
            String command = line.trim().split("\\s+", 7)[6].replaceFirst(" 2>&1 \\| logger .*$", "");
            jobs.add(command.replace("/opt/deenroll/", dir + "/")
                    .replace("/etc/deenroll/deenroll.env", envFile.toString())
                    .replace("/run/lock/deenroll.lock", dir.resolve("lock").toString()));
        }
        assertThat(jobs).as("jobs in the cron file").hasSize(2);
        for (String job : jobs) {
            Result r = sh(List.of("-c", job));
            assertThat(r.exitCode()).as(job + "\n" + r.err()).isZero();
            assertThat(r.out()).as(job).contains("\nDATABASE_URL=" + DATABASE_URL + "\n").contains("DE_ENROLLMENT_BATCH_SIZE=50");
        }
    }

    private record Result(int exitCode, String out, String err) {
    }

    private Result sh(List<String> args) throws Exception {
        List<String> command = new ArrayList<>(List.of("/bin/sh"));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command);
        Map<String, String> environment = pb.environment();
        environment.clear();
        environment.put("PATH", "/usr/bin:/bin");
        environment.put("HOME", dir.toString());
        Path out = dir.resolve("out");
        Path err = dir.resolve("err");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("finished").isTrue();
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }
}
