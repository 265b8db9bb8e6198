package deenroll.ops;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import deenroll.support.Cli;

/** Parses what a command printed with {@code --output json}: exactly one JSON document on stdout. */
final class Json {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }

    static JsonNode of(Cli.Result result) {
        try {
            return MAPPER.readTree(result.out());
        } catch (JsonProcessingException e) {
            throw new AssertionError("stdout is not one JSON document (exit " + result.exitCode() + ", stderr: "
                    + result.err() + "):\n" + result.out(), e);
        }
    }
}
