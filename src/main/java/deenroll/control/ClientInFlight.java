package deenroll.control;

import java.util.UUID;

/** The client an invocation is working on now. */
public record ClientInFlight(UUID clientId, String clientName) {
}
