package deenroll.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What an output (the metrics file, the Pushgateway's group) holds from the
 * runs before, that the next run carries forward: the last success time, which
 * only a success may move (the file's: a file is replaced whole), and the
 * running total of leads de-enrolled by outcome, which each run adds to. {@link #NOTHING} when the output is new or
 * cannot be read: the total then starts again from this run, which Prometheus'
 * {@code rate()} and {@code increase()} take for a counter reset.
 */
public record Published(OptionalDouble lastSuccess, Map<String, Double> deEnrolledTotal) {

    public static final Published NOTHING = new Published(OptionalDouble.empty(), Map.of());

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern TOTAL = Pattern.compile(
            "^" + RunMetrics.DE_ENROLLED_TOTAL + "\\{outcome=\"((?:[^\"\\\\]|\\\\.)*)\"} (\\S+)$");

    public Published {
        deEnrolledTotal = Map.copyOf(deEnrolledTotal);
    }

    /** From a file in Prometheus' text format, as {@link MetricsFile} writes it. */
    static Published fromText(String text) {
        OptionalDouble lastSuccess = OptionalDouble.empty();
        Map<String, Double> totals = new TreeMap<>();
        for (String line : text.split("\n")) {
            try {
                if (line.startsWith(RunMetrics.LAST_SUCCESS + " ")) {
                    lastSuccess = OptionalDouble.of(Double.parseDouble(line.substring(RunMetrics.LAST_SUCCESS.length() + 1).trim()));
                }
                Matcher m = TOTAL.matcher(line);
                if (m.matches()) {
                    totals.put(unescape(m.group(1)), Double.parseDouble(m.group(2)));
                }
            } catch (NumberFormatException e) {
                return NOTHING;
            }
        }
        return new Published(lastSuccess, totals);
    }

    /**
     * From the Pushgateway's {@code /api/v1/metrics}: the running total of the
     * group whose only grouping label is {@code job}. Not its last success time:
     * a run that did not succeed POSTs without one and the group keeps its own,
     * while one sent back could undo a success pushed since it was read.
     */
    static Published fromPushgateway(byte[] apiResponse, String job) {
        JsonNode groups;
        try {
            groups = JSON.readTree(apiResponse).path("data");
        } catch (IOException e) {
            return NOTHING;
        }
        for (JsonNode group : groups) {
            JsonNode labels = group.path("labels");
            if (labels.size() == 1 && job.equals(labels.path("job").asText())) {
                return totalOf(group);
            }
        }
        return NOTHING;
    }

    private static Published totalOf(JsonNode group) {
        Map<String, Double> totals = new TreeMap<>();
        try {
            for (JsonNode sample : group.path(RunMetrics.DE_ENROLLED_TOTAL).path("metrics")) {
                totals.put(sample.path("labels").path("outcome").asText(), Double.parseDouble(sample.path("value").asText()));
            }
        } catch (NumberFormatException e) {
            return NOTHING;
        }
        return new Published(OptionalDouble.empty(), totals);
    }

    private static String unescape(String labelValue) {
        return labelValue.replace("\\n", "\n").replace("\\\"", "\"").replace("\\\\", "\\");
    }
}
