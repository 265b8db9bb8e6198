package deenroll.alert;

import deenroll.db.schema.tables.records.DeEnrollmentAlertStateRecord;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.impl.DSL;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

import static deenroll.db.Among.among;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_ALERT_STATE;

/**
 * The alerting conditions in de_enrollment_alert_state. Each decision is one
 * statement, so two deenroll processes that see the same condition at once
 * send it once.
 */
final class AlertStates {

    private static final deenroll.db.schema.tables.DeEnrollmentAlertState S = DE_ENROLLMENT_ALERT_STATE;

    private final DSLContext dsl;

    AlertStates(DSLContext dsl) {
        this.dsl = dsl;
    }

    /**
     * Records the condition as holding and claims the right to send it: true when
     * it is new, resolved since, more severe than last time, or last sent at
     * least {@code repeat} ago (or never delivered).
     */
    boolean claim(Alert alert, OffsetDateTime now, Duration repeat) {
        String severity = alert.severity().json();
        return dsl.insertInto(S, S.CONDITION_KEY, S.SEVERITY, S.MESSAGE, S.FIRST_SEEN, S.LAST_SENT)
                .values(alert.condition(), severity, alert.message(), now, now)
                .onConflict(S.CONDITION_KEY)
                .doUpdate()
                .set(S.SEVERITY, severity)
                .set(S.MESSAGE, alert.message())
                .set(S.LAST_SENT, now)
                .set(S.FIRST_SEEN, DSL.when(S.RESOLVED_AT.isNotNull(), DSL.val(now)).otherwise(S.FIRST_SEEN))
                .setNull(S.RESOLVED_AT)
                .where(S.RESOLVED_AT.isNotNull()
                        .or(S.LAST_SENT.isNull())
                        .or(S.LAST_SENT.le(now.minus(repeat)))
                        .or(rank(S.SEVERITY).lt(alert.severity().ordinal())))
                .execute() == 1;
    }

    /** The delivery of a claimed alert failed: the next invocation may send it again. */
    void undeliver(String condition) {
        dsl.update(S).setNull(S.LAST_SENT).where(S.CONDITION_KEY.eq(condition)).execute();
    }

    /** Marks holding conditions resolved; returns those an alert had been delivered about. */
    List<DeEnrollmentAlertStateRecord> resolve(Collection<String> conditions, OffsetDateTime now) {
        return dsl.update(S)
                .set(S.RESOLVED_AT, now)
                .where(among(S.CONDITION_KEY, conditions.toArray(String[]::new)))
                .and(S.RESOLVED_AT.isNull())
                .returning()
                .fetch()
                .stream()
                .filter(r -> r.getLastSent() != null)
                .sorted(Comparator.comparing(DeEnrollmentAlertStateRecord::getConditionKey))
                .toList();
    }

    private static Field<Integer> rank(Field<String> severity) {
        return DSL.case_(severity)
                .when(Severity.INFO.json(), Severity.INFO.ordinal())
                .when(Severity.WARNING.json(), Severity.WARNING.ordinal())
                .otherwise(Severity.CRITICAL.ordinal());
    }
}
