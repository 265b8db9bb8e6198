package deenroll.health;

/** One evaluated rule: its level and the SOP-style line that says it. */
public record Finding(Level level, String rule, String message) {

    public String line() {
        return level.icon() + " " + message;
    }
}
