package deenroll.engine;

import java.util.UUID;

/** A client of the platform, as far as a run needs to know it. */
public record Client(UUID id, String name) {
}
