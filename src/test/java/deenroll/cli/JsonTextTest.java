package deenroll.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The commands' JSON is written by JsonText, without ObjectMapper for plain
 * documents; n8n workflows and scripts parse it, so it must stay byte for byte
 * what ObjectMapper printed before (configured as it was: JavaTimeModule, ISO
 * dates, indented), for every kind of value a document holds.
 */
class JsonTextTest {

    private static final ObjectMapper BEFORE = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .enable(SerializationFeature.INDENT_OUTPUT);

    private enum Level { WARNING }

    @Test
    void writesEveryKindOfValueExactlyAsObjectMapperDid() throws Exception {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("invocationId", UUID.fromString("123e4567-e89b-12d3-a456-426614174000").toString());
        doc.put("dryRun", false);
        doc.put("exitCode", 3);
        doc.put("durationMs", 2_147_483_648L);
        doc.put("ratio", 0.1);
        doc.put("nan", Double.NaN);
        doc.put("exact", new BigDecimal("12.50"));
        doc.put("missing", null);
        doc.put("text", "quote \" backslash \\ tab \t newline \n é ✅ \u0001");
        doc.put("emptyList", List.of());
        doc.put("emptyMap", Map.of());
        Map<String, Object> client = new LinkedHashMap<>();
        client.put("clientName", "Acme");
        client.put("byOutcome", new LinkedHashMap<>(Map.of("booked", 1)));
        client.put("error", null);
        doc.put("clients", List.of(client, Map.of("clientName", "Beta")));
        doc.put("nested", List.of(List.of(1, 2), new ArrayList<>(Arrays.asList("a", null))));
        // values JsonText leaves to ObjectMapper
        doc.put("at", OffsetDateTime.of(2026, 11, 29, 8, 0, 0, 0, ZoneOffset.UTC));
        doc.put("level", Level.WARNING);
        Map<UUID, Integer> byClient = new HashMap<>();
        byClient.put(UUID.fromString("00000000-0000-0000-0000-000000000001"), 7);
        doc.put("byClient", byClient);
        doc.put("afterTheFallback", List.of(Map.of("still", "indented")));

        assertThat(JsonText.of(doc)).isEqualTo(BEFORE.writeValueAsString(doc));
    }

    @Test
    void aBareValueIsAlsoOneDocument() throws Exception {
        assertThat(JsonText.of(List.of())).isEqualTo(BEFORE.writeValueAsString(List.of()));
        assertThat(JsonText.of(null)).isEqualTo(BEFORE.writeValueAsString(null));
    }
}
