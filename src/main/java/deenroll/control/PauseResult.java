package deenroll.control;

/**
 * What {@link Pauses#pause} did: {@code isNew} false means a pause was in
 * force already, and {@code pause} is that one, left as it was.
 */
public record PauseResult(Pause pause, boolean isNew) {
}
