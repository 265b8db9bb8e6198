package deenroll.health;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The findings of one health check and the numbers behind them (none when the check could not measure). */
public record HealthReport(List<Finding> findings, Optional<HealthNumbers> numbers) {

    public HealthReport {
        findings = List.copyOf(findings);
    }

    /** A check that measured nothing (database unreachable, timed out): its findings say why. */
    public static HealthReport unmeasured(Finding finding) {
        return new HealthReport(List.of(finding), Optional.empty());
    }

    public Level level() {
        return findings.stream().map(Finding::level).reduce(Level.OK, Level::worse);
    }

    /** The numbers as the JSON document's {@code metrics}: empty when nothing was measured. */
    public Map<String, Object> metrics() {
        return numbers.map(HealthNumbers::json).orElse(Map.of());
    }

    /** True while a pause is in force. */
    public boolean paused() {
        return findings.stream().anyMatch(f -> f.rule().equals(PauseRule.RULE));
    }

    public List<Finding> problems() {
        return findings.stream().filter(f -> f.level() != Level.OK).toList();
    }
}
