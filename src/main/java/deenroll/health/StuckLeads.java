package deenroll.health;

import deenroll.db.schema.tables.DeEnrollmentStuckLeads;
import org.jooq.types.DayToSecond;
import org.jooq.types.YearToMonth;
import org.jooq.types.YearToSecond;

import java.time.Duration;

import static deenroll.db.schema.Routines.deEnrollmentStuckLeads;

/** The stuck leads (DESIGN §3) for a grace period, as the table health-check and verify both read. */
public final class StuckLeads {

    private StuckLeads() {
    }

    public static DeEnrollmentStuckLeads idleLongerThan(Duration grace) {
        return deEnrollmentStuckLeads(new YearToSecond(new YearToMonth(), DayToSecond.valueOf(grace)));
    }
}
