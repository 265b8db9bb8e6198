package deenroll.cli;

import picocli.CommandLine.Option;

/** The options of `run`, also accepted by the bare command (the old script's flags). */
public final class RunOptions {

    @Option(names = "--client-id", paramLabel = "UUID", description = "de-enroll one client only (run_type manual)")
    String clientId;

    @Option(names = "--all-clients", description = "all active clients (the default; run_type scheduled)")
    boolean allClients;

    @Option(names = "--dry-run", description = "report what would be de-enrolled; change nothing")
    boolean dryRun;

    @Option(names = "--batch-size", paramLabel = "N", description = "leads per batch transaction, 1-10000 (env DE_ENROLLMENT_BATCH_SIZE, default 100)")
    String batchSize;

    @Option(names = "--ping-url", paramLabel = "URL",
            description = "dead-man switch (healthchecks.io): POST URL/start, then URL/<exit code> with a short log, both ?rid=<invocation id> (env DE_ENROLLMENT_PING_URL)")
    String pingUrl;

    @Option(names = "--ignore-pause",
            description = "run even while de-enrollment is paused (deenroll pause); without it a paused run does nothing and exits 0")
    boolean ignorePause;

    @Option(names = "--lease", paramLabel = "MS",
            description = "heartbeat lease in ms: an invocation silent this long is taken for dead by other processes (env DE_ENROLLMENT_LEASE, default 90000)")
    String lease;

    @Option(names = "--max-runtime", paramLabel = "MS", description = "time budget of the invocation in ms (env DE_ENROLLMENT_MAX_RUNTIME, default 240000)")
    String maxRuntime;
}
