package deenroll.health;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The findings of one health check and the numbers behind them. */
public record HealthReport(List<Finding> findings, Map<String, Object> metrics) {

    public HealthReport {
        findings = List.copyOf(findings);
        // metrics may be null (no run yet, no memory recorded): Map.copyOf would reject them
        metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
    }

    public Level level() {
        return findings.stream().map(Finding::level).reduce(Level.OK, Level::worse);
    }

    /** True while a pause is in force. */
    public boolean paused() {
        return findings.stream().anyMatch(f -> f.rule().equals(PauseRule.RULE));
    }

    public List<Finding> problems() {
        return findings.stream().filter(f -> f.level() != Level.OK).toList();
    }
}
