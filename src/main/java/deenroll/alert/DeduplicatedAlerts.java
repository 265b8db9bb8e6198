package deenroll.alert;

import deenroll.db.schema.tables.records.DeEnrollmentAlertStateRecord;
import org.jooq.DSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Keeps a condition that lasts from alerting on every run (every 15 minutes):
 * an alert goes out when its condition is new, worse, or was last sent at least
 * the repeat interval ago; when the condition clears, one "resolved" message.
 * The state lives in the database, shared by every process. When the state
 * cannot be read (an older schema, a lost connection) the alert is sent anyway:
 * a duplicate is better than silence.
 */
public final class DeduplicatedAlerts implements AlertSink {

    private static final Logger LOG = LoggerFactory.getLogger(DeduplicatedAlerts.class);

    private final AlertStates states;
    private final WebhookAlerts webhook;
    private final Duration repeat;
    private final Clock clock;

    public DeduplicatedAlerts(DSLContext dsl, WebhookAlerts webhook, Duration repeat, Clock clock) {
        this.states = new AlertStates(dsl);
        this.webhook = webhook;
        this.repeat = repeat;
        this.clock = clock;
    }

    @Override
    public void send(Alert alert) {
        boolean claimed;
        try {
            claimed = states.claim(alert, now(), repeat);
        } catch (RuntimeException e) {
            LOG.debug("alert state not available ({}); sending without de-duplication", e.getClass().getSimpleName());
            webhook.send(alert);
            return;
        }
        if (!claimed) {
            LOG.info("alert not repeated (condition {} already reported within {} min): {}",
                    alert.condition(), repeat.toMinutes(), alert.message());
            return;
        }
        if (!webhook.deliver(alert)) {
            try {
                states.undeliver(alert.condition());
            } catch (RuntimeException e) {
                LOG.debug("could not mark alert {} undelivered ({})", alert.condition(), e.getClass().getSimpleName());
            }
        }
    }

    @Override
    public void resolve(Collection<String> conditions) {
        if (conditions.isEmpty()) {
            return;
        }
        List<DeEnrollmentAlertStateRecord> resolved;
        try {
            resolved = states.resolve(conditions, now());
        } catch (RuntimeException e) {
            LOG.debug("alert state not available ({}); cannot tell whether {} condition(s) were reported",
                    e.getClass().getSimpleName(), conditions.size());
            return;
        }
        for (DeEnrollmentAlertStateRecord state : resolved) {
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("condition", state.getConditionKey());
            details.put("firstSeen", state.getFirstSeen().toString());
            details.put("resolvedAt", state.getResolvedAt().toString());
            details.put("previousSeverity", state.getSeverity());
            webhook.send(new Alert(Severity.INFO, state.getConditionKey(), "Resolved: " + state.getMessage(), details));
        }
    }

    private OffsetDateTime now() {
        return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
    }
}
