package deenroll.cli;

import deenroll.support.Cli;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A bad setting, from its option or its variable, is refused by every command
 * alike: exit 2 (health-check 3, UNKNOWN) and one line naming where it came
 * from, before any connection is tried (the database here does not answer: a
 * command that tried would exit 4). NaN, Infinity, numbers too large to hold
 * and a 0 that would make no sense are refused as any other bad value.
 */
class SettingsUsageErrorsTest {

    /** Well formed, and nothing listens there. */
    private static final String NOWHERE = "postgres://deenroll@127.0.0.1:1/app";
    private static final String HUGE = "1" + "0".repeat(400);

    private static Arguments env(String variable, String value, String... args) {
        return Arguments.of(Map.of(variable, value), List.of(args), variable);
    }

    private static Arguments option(String named, String... args) {
        return Arguments.of(Map.of(), List.of(args), named);
    }

    static Stream<Arguments> refused() {
        return Stream.of(
                env("DE_ENROLLMENT_MAX_RUNTIME", "NaN", "run"),
                env("DE_ENROLLMENT_MAX_RUNTIME", "Infinity", "run"),
                env("DE_ENROLLMENT_MAX_RUNTIME", "0", "run"),
                option("--max-runtime", "run", "--max-runtime", "0"),
                env("DE_ENROLLMENT_LEASE", "0", "run"),
                env("DE_ENROLLMENT_STUCK_GRACE_MINUTES", "0", "run"),
                env("DE_ENROLLMENT_BATCH_SIZE", "NaN"),
                env("DE_ENROLLMENT_MAX_RUNTIME", "0", "migrate-stuck-leads"),
                env("DE_ENROLLMENT_MAX_RUNTIME", "NaN", "migrate-stuck-leads"),
                option("--max-runtime", "migrate-stuck-leads", "--max-runtime", "Infinity"),
                env("DE_ENROLLMENT_BATCH_SIZE", "0", "migrate-stuck-leads"),
                env("DE_ENROLLMENT_STUCK_GRACE_MINUTES", "0", "verify"),
                env("DE_ENROLLMENT_STUCK_GRACE_MINUTES", "NaN", "verify"),
                option("--stuck-grace-minutes", "verify", "--stuck-grace-minutes", "0"),
                option("--stuck-grace-minutes", "verify", "--stuck-grace-minutes", "-5"),
                option("--stuck-grace-minutes", "verify", "--stuck-grace-minutes", "Infinity"),
                env("DE_ENROLLMENT_CLEANUP_RUNS_DAYS", "0", "cleanup"),
                env("DE_ENROLLMENT_CLEANUP_BACKUP_DAYS", "7", "cleanup"),
                env("DE_ENROLLMENT_CLEANUP_LEAD_LOG_DAYS", "NaN", "cleanup"),
                option("--lead-log-days", "cleanup", "--lead-log-days", "0"),
                option("--runs-days", "cleanup", "--runs-days", "Infinity"),
                env("DE_ENROLLMENT_WARNING_STUCK_LEADS", "NaN", "report", "daily"),
                env("DE_ENROLLMENT_CRITICAL_HOURS_SINCE_LAST_RUN", "0", "report", "daily"),
                env("DE_ENROLLMENT_STUCK_GRACE_MINUTES", "0", "report", "daily"),
                option("-w stuck_leads", "report", "daily", "-w", "stuck_leads=Infinity"),
                option("--min-success-rate", "report", "daily", "--min-success-rate", "NaN"),
                env("DE_ENROLLMENT_LOCK_TIMEOUT", "NaN", "migrate"),
                env("DE_ENROLLMENT_OPERATION_TIMEOUT", "Infinity", "backup"),
                env("DE_ENROLLMENT_OPERATION_TIMEOUT", "-1", "restore", "--from", "20260101"),
                env("DE_ENROLLMENT_CONNECT_TIMEOUT", "0", "status"),
                env("DE_ENROLLMENT_STATEMENT_TIMEOUT", HUGE, "reconcile-stats"),
                option("--leads-per-campaign", "demo", "--leads-per-campaign", "0"));
    }

    static Stream<Arguments> refusedByHealthCheck() {
        return Stream.of(
                env("DE_ENROLLMENT_WARNING_STUCK_LEADS", "NaN", "health-check"),
                env("DE_ENROLLMENT_WARNING_STUCK_LEADS", "Infinity", "health-check"),
                env("DE_ENROLLMENT_WARNING_STUCK_LEADS", "lots", "health-check"),
                env("DE_ENROLLMENT_WARNING_STUCK_LEADS", HUGE, "health-check"),
                env("DE_ENROLLMENT_WARNING_STUCK_LEADS", "NaN", "--health-check"),
                env("DE_ENROLLMENT_WARNING_PEAK_MEMORY_24H", "0", "health-check"),
                env("DE_ENROLLMENT_CRITICAL_SUCCESS_RATE_24H", "101:", "health-check"),
                env("DE_ENROLLMENT_STUCK_GRACE_MINUTES", "0", "health-check"),
                option("-w stuck_leads", "health-check", "-w", "stuck_leads=" + HUGE),
                option("-c hours_since_last_run", "health-check", "-c", "hours_since_last_run=0"),
                option("-w average_run_duration_24h", "health-check", "-w", "average_run_duration_24h=-5:100"),
                option("--min-success-rate", "health-check", "--min-success-rate", "NaN"),
                option("--min-success-rate", "health-check", "--min-success-rate", "101"),
                option("--max-hours-since-success", "health-check", "--max-hours-since-success", "Infinity"),
                option("--max-hours-since-success", "health-check", "--max-hours-since-success", "0"),
                option("--no-run-hours", "health-check", "--no-run-hours", "0"),
                option("--max-memory-mb", "health-check", "--max-memory-mb", "0"),
                option("--max-average-minutes", "health-check", "--max-average-minutes", "NaN"),
                option("--stuck-warning", "health-check", "--stuck-warning", "-1"),
                option("--stuck-grace-minutes", "health-check", "--stuck-grace-minutes", "0"),
                option("-t/--timeout", "health-check", "-t", "NaN"),
                option("-t/--timeout", "health-check", "-t", "0"));
    }

    @ParameterizedTest(name = "[{index}] {1} with {0}")
    @MethodSource("refused")
    void aBadSettingIsExit2WithOneLineNamingIt(Map<String, String> env, List<String> args, String named) {
        assertRefused(env, args, named, ExitCode.USAGE);
    }

    @ParameterizedTest(name = "[{index}] {1} with {0}")
    @MethodSource("refusedByHealthCheck")
    void aBadHealthCheckSettingIsUnknownWithOneLineNamingIt(Map<String, String> env, List<String> args, String named) {
        assertRefused(env, args, named, 3);
    }

    private static void assertRefused(Map<String, String> env, List<String> args, String named, int exit) {
        Map<String, String> all = new HashMap<>(env);
        all.put("DATABASE_URL", NOWHERE);

        Cli.Result r = Cli.run(all, args.toArray(String[]::new));

        assertThat(r.exitCode()).as("exit code; stderr: %s", r.err()).isEqualTo(exit);
        assertThat(Lines.of(r.err())).singleElement().asString().startsWith("deenroll: " + named + ": expected");
        assertThat(r.out()).isBlank();
    }
}
