package deenroll.control;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Optional;
import java.util.UUID;

/**
 * One running invocation of `deenroll run`, as de_enrollment_live_invocations
 * shows it. {@code heartbeatAgeSeconds} is the view's, to a tenth of a second
 * (null for an invocation without a heartbeat row); {@code clientInFlight} is
 * empty once every client of the invocation is done.
 */
public record LiveInvocation(UUID invocationId,
                             String host,
                             int pid,
                             String runType,
                             OffsetDateTime startedAt,
                             BigDecimal heartbeatAgeSeconds,
                             Duration lease,
                             boolean ignoresPause,
                             Optional<ClientInFlight> clientInFlight,
                             int clientsDone,
                             int clientsTotal,
                             int leadsDeEnrolled) {
}
