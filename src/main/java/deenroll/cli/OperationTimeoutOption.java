package deenroll.cli;

import picocli.CommandLine.Option;

/** The own timeout of the commands that copy, rewrite or vacuum whole tables; validated by {@link deenroll.config.Config}. */
public final class OperationTimeoutOption {

    @Option(names = "--operation-timeout", paramLabel = "MS",
            description = "timeout of each statement of this command, in ms, 0 = none; it replaces --statement-timeout"
                    + " here (env DE_ENROLLMENT_OPERATION_TIMEOUT, default 14400000: four hours)")
    String value;
}
