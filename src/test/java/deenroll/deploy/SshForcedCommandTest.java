package deenroll.deploy;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * deploy/deenroll-ssh, the forced command of n8n's SSH key (docs/n8n.md): it
 * lets the key run `run` and `health-check` with JSON output and nothing else
 * (behind the `cd DIR ; ` n8n's SSH node puts before its command), with the
 * env file's lines taken as they are written. The launcher next to it
 * is replaced by one that prints what it was given.
 */
class SshForcedCommandTest {

    private static final String DATABASE_URL =
            "postgres://deenroll:pa$HOME;x@db.internal:5432/app?sslmode=verify-full&sslrootcert=/etc/deenroll/root.crt";

    @TempDir
    Path dir;
    private Path envFile;

    @BeforeEach
    void install() throws IOException {
        Files.copy(Path.of("deploy/deenroll-ssh"), dir.resolve("deenroll-ssh"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.copy(Path.of("deploy/deenroll-env"), dir.resolve("deenroll-env"), StandardCopyOption.COPY_ATTRIBUTES);
        Path launcher = dir.resolve("deenroll");
        Files.writeString(launcher, """
                #!/bin/sh
                printf 'args=%s\\n' "$*"
                printf 'DATABASE_URL=%s\\n' "$DATABASE_URL"
                printf 'LOG_LEVEL=%s\\n' "$LOG_LEVEL"
                printf 'DE_ENROLLMENT_BATCH_SIZE=%s\\n' "${DE_ENROLLMENT_BATCH_SIZE-unset}"
                """);
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwx------"));
        envFile = dir.resolve("deenroll.env");
        Files.writeString(envFile, "# the secrets\nDATABASE_URL=" + DATABASE_URL + "\n\nLOG_LEVEL=info\nDE_ENROLLMENT_BATCH_SIZE=50");
    }

    @ParameterizedTest
    @ValueSource(strings = {"run --output json", "health-check --output json", "cd / ; run --output json",
            "cd '/var/lib/deenroll' ; health-check --output json"})
    void runsTheAllowedCommandsWithTheEnvFileAsWritten(String command) throws Exception {
        Result r = forced(command, envFile);

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo("args=" + command.replaceFirst("^cd .* ; ", "") + "\n"
                + "DATABASE_URL=" + DATABASE_URL + "\n"
                + "LOG_LEVEL=warn\n"
                + "DE_ENROLLMENT_BATCH_SIZE=50\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"cat /etc/passwd", "run", "run --output json; id", "run --output json --client-id=x",
            "health-check --output json && sh", "cd / ; cat /etc/passwd", "cd / ; run --output json ; id",
            "cd /;run --output json", ""})
    void refusesEverythingElse(String command) throws Exception {
        Result r = forced(command, envFile);

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).startsWith("deenroll-ssh: refused '" + command + "'");
    }

    @Test
    void aMissingEnvFileRunsNothing() throws Exception {
        Result r = forced("run --output json", dir.resolve("missing.env"));

        assertThat(r.exitCode()).isNotZero();
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains("missing.env");
    }

    private record Result(int exitCode, String out, String err) {
    }

    /** As sshd runs a forced command: SSH_ORIGINAL_COMMAND holds what the client asked for. */
    private Result forced(String originalCommand, Path env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", dir.resolve("deenroll-ssh").toString(), env.toString());
        Map<String, String> environment = pb.environment();
        environment.clear();
        environment.put("PATH", "/usr/bin:/bin");
        environment.put("HOME", dir.toString());
        environment.put("SSH_ORIGINAL_COMMAND", originalCommand);
        Path out = dir.resolve("out");
        Path err = dir.resolve("err");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("deenroll-ssh finished").isTrue();
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }
}
