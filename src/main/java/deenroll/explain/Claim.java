package deenroll.explain;

import java.util.UUID;

/**
 * A live invocation of `deenroll run` that has the lead's run client among its
 * clients and not yet done: in flight now, or still to come.
 */
public record Claim(UUID invocationId, String host, int pid, boolean inFlight, boolean ignoresPause) {
}
