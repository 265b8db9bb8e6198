package deenroll.health;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The threshold ranges of the monitoring-plugins guidelines, example by
 * example: each range, values on both sides of and on its ends, and whether
 * they alert (the ends belong to the range).
 */
class RangeTest {

    @ParameterizedTest(name = "{0} with {1}: alerts {2}")
    @CsvSource({
            // "10": alert outside 0..10
            "10, -1, true", "10, 0, false", "10, 5, false", "10, 10, false", "10, 10.01, true", "10, 11, true",
            // "10:": alert below 10
            "10:, 9.99, true", "10:, 10, false", "10:, 1000000, false",
            // "~:10": alert above 10, no lower end
            "~:10, -1000000, false", "~:10, 10, false", "~:10, 11, true",
            // "10:20": alert outside 10..20
            "10:20, 9, true", "10:20, 10, false", "10:20, 15, false", "10:20, 20, false", "10:20, 21, true",
            // "@10:20": alert inside 10..20, ends included
            "@10:20, 9, false", "@10:20, 10, true", "@10:20, 15, true", "@10:20, 20, true", "@10:20, 21, false",
            // a decimal and a negative start
            "-5:0.5, -5.1, true", "-5:0.5, 0.5, false", "-5:0.5, 0.6, true",
            "@0:, 0, true", "@0:, -1, false"})
    void alertsAsTheGuidelinesTableSays(String range, double value, boolean alerts) {
        assertThat(Range.parse(range).alerts(value)).isEqualTo(alerts);
    }

    @ParameterizedTest(name = "{0} is written {1}")
    @CsvSource({"10, 10", "10:, 10:", "~:10, ~:10", "10:20, 10:20", "@10:20, @10:20", "0:10, 10", "95.50:, 95.5:",
            "@~:5, @~:5", "' 7 ', 7"})
    void isWrittenBackInTheGuidelinesSyntaxForPerfdata(String range, String written) {
        assertThat(Range.parse(range)).hasToString(written);
    }

    @ParameterizedTest(name = "''{0}'' is refused")
    @ValueSource(strings = {"", " ", "abc", "10:5", "@", "~", ":", "10::20", "1e3", "NaN", "Infinity", "~10", "10:~",
            "--5", "5 :10", "@@5"})
    void refusesWhatIsNotARange(String text) {
        assertThatThrownBy(() -> Range.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'" + text + "'");
    }

    @Test
    void refusesANumberTooLargeToHoldRatherThanTakingItForNoEnd() {
        // 309 digits and more parse as Infinity: "alert above Infinity" would never alert
        String huge = "1" + "0".repeat(400);
        for (String text : new String[] {huge, huge + ":", "5:" + huge, "@" + huge + ":" + huge}) {
            assertThatThrownBy(() -> Range.parse(text)).as(text).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("too large");
        }
        assertThat(Range.parse("1" + "0".repeat(300)).end()).isFinite();
    }

    @Test
    void aMeasureRefusesRangesItCannotMeanAndKeepsTheRealOnes() {
        assertThat(Measure.PEAK_MEMORY.refusal(Range.parse("0"))).isPresent();
        assertThat(Measure.HOURS_SINCE_LAST_RUN.refusal(Range.parse("~:0"))).isPresent();
        assertThat(Measure.SUCCESS_RATE.refusal(Range.parse("101:"))).isPresent();
        assertThat(Measure.STUCK_LEADS.refusal(Range.parse("-1:10"))).isPresent();
        // any stuck lead, any failed run, any pause: 0 is a real limit of a count
        assertThat(Measure.STUCK_LEADS.refusal(Range.parse("0"))).isEmpty();
        assertThat(Measure.FAILED_RUNS.refusal(Range.parse("0"))).isEmpty();
        assertThat(Measure.PAUSED_HOURS.refusal(Range.parse("0"))).isEmpty();
        for (Measure m : Measure.values()) {
            m.defaults().warning().ifPresent(r -> assertThat(m.refusal(r)).as("%s default", m).isEmpty());
            m.defaults().critical().ifPresent(r -> assertThat(m.refusal(r)).as("%s default", m).isEmpty());
        }
    }

    @Test
    void theSopsWordsForEachShape() {
        assertThat(Range.parse("100").describe("")).isEqualTo("above 100");
        assertThat(Range.parse("95:").describe("%")).isEqualTo("below 95%");
        assertThat(Range.parse("~:10").describe(" s")).isEqualTo("above 10 s");
        assertThat(Range.parse("10:20").describe("")).isEqualTo("outside 10..20");
        assertThat(Range.parse("@10:20").describe("")).isEqualTo("between 10 and 20");
        assertThat(Range.parse("@10:").describe("")).isEqualTo("at or above 10");
    }

    @Test
    void plainAboveAndBelowRangesNameTheirThreshold() {
        assertThat(Range.parse("2").ceiling()).hasValue(2);
        assertThat(Range.parse("~:2").ceiling()).hasValue(2);
        assertThat(Range.parse("1:2").ceiling()).isEmpty();
        assertThat(Range.parse("@2").ceiling()).isEmpty();
        assertThat(Range.parse("95:").floor()).hasValue(95);
        assertThat(Range.parse("95").floor()).isEmpty();
    }

    @Test
    void criticalWinsOverWarning() {
        Limits stuck = new Limits(Optional.of(Range.parse("100")), Optional.of(Range.parse("500")));
        assertThat(stuck.level(100)).isEqualTo(Level.OK);
        assertThat(stuck.level(101)).isEqualTo(Level.WARNING);
        assertThat(stuck.level(501)).isEqualTo(Level.CRITICAL);
        assertThat(new Limits(Optional.empty(), Optional.empty()).level(1e9)).isEqualTo(Level.OK);
    }

    @Test
    void everyMeasureHasADefaultAndTheDefaultsAreTheProceduresLimits() {
        // DESIGN §6: the numbers the operating procedure names
        assertThat(Thresholds.DEFAULTS.of(Measure.STUCK_LEADS))
                .isEqualTo(new Limits(Optional.of(Range.above(100)), Optional.of(Range.above(500))));
        assertThat(Thresholds.DEFAULTS.of(Measure.SUCCESS_RATE).warning()).hasValue(Range.below(95));
        assertThat(Thresholds.DEFAULTS.of(Measure.FAILED_RUNS).warning()).hasValue(Range.above(5));
        assertThat(Thresholds.DEFAULTS.of(Measure.HOURS_SINCE_SUCCESS).critical()).hasValue(Range.above(2));
        assertThat(Thresholds.DEFAULTS.of(Measure.HOURS_SINCE_LAST_RUN).critical()).hasValue(Range.above(2));
        assertThat(Thresholds.DEFAULTS.of(Measure.AVERAGE_DURATION).warning()).hasValue(Range.above(240));
        assertThat(Thresholds.DEFAULTS.of(Measure.PEAK_MEMORY).warning()).hasValue(Range.above(2048));
        assertThat(Thresholds.DEFAULTS.of(Measure.PAUSED_HOURS).critical()).hasValue(Range.above(24));
        for (Measure m : Measure.values()) {
            assertThat(m.defaults().warning().or(() -> m.defaults().critical())).as(m.label()).isPresent();
        }
    }
}
