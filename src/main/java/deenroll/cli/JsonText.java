package deenroll.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Collection;
import java.util.Map;

/**
 * The JSON documents the commands print, written with Jackson's streaming
 * generator in the layout of ObjectMapper's INDENT_OUTPUT. The documents are
 * maps, lists, strings, numbers, booleans and nulls; building ObjectMapper's
 * serializers for them cost a cold run about 40 ms, a tenth of its start-up
 * (docs/performance.md). Any other value (a date, an enum, a map keyed by
 * something else than text) is handed to {@link CliContext.Json#MAPPER}, so
 * the output is the same as before either way.
 */
final class JsonText {

    private static final JsonFactory FACTORY = new JsonFactory();

    private JsonText() {
    }

    static String of(Object document) {
        StringWriter text = new StringWriter();
        try (JsonGenerator json = FACTORY.createGenerator(text)) {
            json.setPrettyPrinter(new DefaultPrettyPrinter());
            write(json, document);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text.toString();
    }

    private static void write(JsonGenerator json, Object value) throws IOException {
        if (value == null) {
            json.writeNull();
        } else if (value instanceof String s) {
            json.writeString(s);
        } else if (value instanceof Boolean b) {
            json.writeBoolean(b);
        } else if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
            json.writeNumber(((Number) value).intValue());
        } else if (value instanceof Long l) {
            json.writeNumber(l);
        } else if (value instanceof Double d) {
            json.writeNumber(d);
        } else if (value instanceof BigDecimal d) {
            json.writeNumber(d);
        } else if (value instanceof BigInteger i) {
            json.writeNumber(i);
        } else if (value instanceof Map<?, ?> map && map.keySet().stream().allMatch(String.class::isInstance)) {
            json.writeStartObject();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                json.writeFieldName((String) e.getKey());
                write(json, e.getValue());
            }
            json.writeEndObject();
        } else if (value instanceof Collection<?> list) {
            json.writeStartArray();
            for (Object element : list) {
                write(json, element);
            }
            json.writeEndArray();
        } else {
            CliContext.Json.MAPPER.writeValue(json, value);
        }
    }
}
