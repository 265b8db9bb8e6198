package deenroll.health;

import java.util.UUID;

/**
 * The client a finding is about: its name for people, its id for the command
 * that acts on it (two clients may share a name; {@code --client-id} takes the id).
 */
public record ClientRef(UUID id, String name) {

    /** "Bright Dental (4d72…)": how every line about a client names it. */
    public String label() {
        return name + " (" + id + ")";
    }

    /** The command that runs this client alone, once the cause is fixed. */
    public String runCommand() {
        return "deenroll run --client-id=" + id;
    }
}
