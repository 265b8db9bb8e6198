package deenroll.health;

/** Nagios/Icinga plugin states; the ordinal order is the severity order. */
public enum Level {
    OK(0, "✅"), WARNING(1, "⚠️"), CRITICAL(2, "❌"), UNKNOWN(3, "❓");

    private final int exitCode;
    private final String icon;

    Level(int exitCode, String icon) {
        this.exitCode = exitCode;
        this.icon = icon;
    }

    public int exitCode() {
        return exitCode;
    }

    public String icon() {
        return icon;
    }

    public Level worse(Level other) {
        // UNKNOWN only wins over OK: a known CRITICAL is more useful than "unknown"
        if (this == UNKNOWN || other == UNKNOWN) {
            Level known = this == UNKNOWN ? other : this;
            return known == OK || known == UNKNOWN ? UNKNOWN : known;
        }
        return ordinal() >= other.ordinal() ? this : other;
    }
}
