package deenroll.engine;

import java.time.OffsetDateTime;
import java.util.UUID;

/** A run row left `running` by a process that died, closed as failed; {@code host} and {@code pid} name that process. */
public record AbandonedRun(UUID runId, UUID clientId, UUID invocationId, String host, Integer pid, OffsetDateTime runAt,
                           OffsetDateTime lastHeartbeat) {
}
