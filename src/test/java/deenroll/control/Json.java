package deenroll.control;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import deenroll.support.Cli;

import java.io.IOException;

/** Parses what a command printed with {@code --output json}: exactly one JSON document on stdout. */
final class Json {

    // trailing tokens fail the parse: stdout must be exactly one document
    private static final ObjectReader ONE_DOCUMENT = new ObjectMapper().readerFor(JsonNode.class)
            .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private Json() {
    }

    static JsonNode of(Cli.Result result) {
        try {
            return ONE_DOCUMENT.readValue(result.out());
        } catch (IOException e) {
            throw new AssertionError("stdout is not one JSON document (exit " + result.exitCode() + ", stderr: "
                    + result.err() + "):\n" + result.out(), e);
        }
    }
}
