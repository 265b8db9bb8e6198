package deenroll.engine;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A run row's by_outcome, as jsonb prints it, read back into counts (streaming, no ObjectMapper). */
class RunOutcomesTest {

    @Test
    void readsTheCountsInTheirOrder() {
        assertThat(Runs.outcomes("{\"booked\": 10, \"completed\": 85, \"opted_out\": 5}"))
                .containsExactly(Map.entry("booked", 10), Map.entry("completed", 85), Map.entry("opted_out", 5));
        assertThat(Runs.outcomes("{}")).isEmpty();
        assertThat(Runs.outcomes(null)).isEmpty();
    }

    @Test
    void anythingButAnObjectOfWholeCountsIsRefusedNamingTheValue() {
        for (String bad : List.of("[]", "{\"booked\": \"ten\"}", "{\"booked\": 1.5}", "{\"booked\": 1} {}",
                "{\"booked\": {\"n\": 1}}", "{\"booked\": 99999999999}", "{\"booked\": 1", "")) {
            assertThatThrownBy(() -> Runs.outcomes(bad)).as(bad)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("by_outcome is not an {outcome: count} object: " + bad);
        }
    }
}
