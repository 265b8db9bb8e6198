package deenroll.health;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The overall level of a report and its exit code, by the Nagios plugin convention. */
class LevelTest {

    @Test
    void exitCodesAreNagios() {
        assertThat(Level.OK.exitCode()).isZero();
        assertThat(Level.WARNING.exitCode()).isEqualTo(1);
        assertThat(Level.CRITICAL.exitCode()).isEqualTo(2);
        assertThat(Level.UNKNOWN.exitCode()).isEqualTo(3);
    }

    @Test
    void worseIsTheMoreSevereOfTwo() {
        assertThat(Level.OK.worse(Level.WARNING)).isEqualTo(Level.WARNING);
        assertThat(Level.CRITICAL.worse(Level.WARNING)).isEqualTo(Level.CRITICAL);
        assertThat(Level.WARNING.worse(Level.CRITICAL)).isEqualTo(Level.CRITICAL);
        assertThat(Level.OK.worse(Level.OK)).isEqualTo(Level.OK);
    }

    @Test
    void unknownOnlyWinsOverOk() {
        // a known CRITICAL tells the on-call engineer more than "unknown"
        assertThat(Level.UNKNOWN.worse(Level.OK)).isEqualTo(Level.UNKNOWN);
        assertThat(Level.OK.worse(Level.UNKNOWN)).isEqualTo(Level.UNKNOWN);
        assertThat(Level.UNKNOWN.worse(Level.WARNING)).isEqualTo(Level.WARNING);
        assertThat(Level.CRITICAL.worse(Level.UNKNOWN)).isEqualTo(Level.CRITICAL);
    }

    @Test
    void findingLineStartsWithTheIcon() {
        assertThat(new Finding(Level.OK, "r", "fine").line()).isEqualTo("✅ fine");
        assertThat(new Finding(Level.WARNING, "r", "hm").line()).isEqualTo("⚠️ hm");
        assertThat(new Finding(Level.CRITICAL, "r", "bad").line()).isEqualTo("❌ bad");
    }
}
