package deenroll.engine;

import java.time.OffsetDateTime;
import java.util.UUID;

/** A run row left `running` by a process that died, closed as failed. */
public record AbandonedRun(UUID runId, UUID clientId, OffsetDateTime runAt, OffsetDateTime lastHeartbeat) {
}
