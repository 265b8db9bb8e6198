package deenroll.ops;

import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.Record;
import org.jooq.Result;
import org.jooq.impl.DSL;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static deenroll.db.schema.Tables.CAMPAIGNS;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_CAMPAIGN_COUNTERS;

/**
 * Campaign counters against their definition (de_enrollment_campaign_counters()):
 * the drift per campaign, and the repair.
 */
public final class Reconcile {

    private static final String[] COUNTERS = {"active_leads_count", "completed_leads_count", "opted_out_count", "booked_count"};

    private final DSLContext dsl;

    public Reconcile(DSLContext dsl) {
        this.dsl = dsl;
    }

    /** Campaigns whose stored counters differ from the definition: reported vs actual. */
    public List<Map<String, Object>> drift() {
        return drift(dsl);
    }

    /**
     * Recomputes every drifted campaign in one transaction. The campaign rows are
     * locked first, in id order, as a de-enrollment batch locks them before it
     * touches leads; the counts are then read in a new statement, after the locks:
     * a batch either committed before (its leads are counted) or waits and then
     * moves the repaired counters itself, so no new drift can slip in.
     */
    public OpsReport run(boolean dryRun) {
        List<Map<String, Object>> drift;
        int fixed = 0;
        if (dryRun) {
            drift = drift(dsl);
        } else {
            List<List<Map<String, Object>>> seen = new ArrayList<>();
            int[] updated = {0};
            dsl.transaction(cfg -> {
                DSLContext tx = cfg.dsl();
                tx.select(CAMPAIGNS.ID).from(CAMPAIGNS).orderBy(CAMPAIGNS.ID).forNoKeyUpdate().fetch();
                seen.add(drift(tx));
                updated[0] = recompute(tx, DSL.trueCondition());
            });
            drift = seen.get(0);
            fixed = updated[0];
        }
        List<String> lines = new ArrayList<>();
        for (Map<String, Object> d : drift) {
            lines.add(String.format("%s %s (%s): %s", dryRun ? "drift" : "fixed", d.get("campaignName"), d.get("campaignId"),
                    d.get("summary")));
        }
        lines.add(drift.isEmpty() ? "no drift: every campaign's counters equal their definition"
                : dryRun ? drift.size() + " campaign(s) drifted; nothing written (--dry-run)"
                : fixed + " campaign(s) recomputed in one transaction");
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("dryRun", dryRun);
        json.put("drifted", drift);
        json.put("fixed", fixed);
        return new OpsReport(lines, json, false);
    }

    /**
     * Sets the counters of the campaigns {@code which} selects to their
     * definition, where they differ; the caller holds the campaign rows'
     * locks. Returns how many campaigns changed.
     */
    static int recompute(DSLContext tx, Condition which) {
        var a = DE_ENROLLMENT_CAMPAIGN_COUNTERS.as("a");
        return tx.update(CAMPAIGNS)
                .set(CAMPAIGNS.ACTIVE_LEADS_COUNT, a.ACTIVE_LEADS_COUNT)
                .set(CAMPAIGNS.COMPLETED_LEADS_COUNT, a.COMPLETED_LEADS_COUNT)
                .set(CAMPAIGNS.OPTED_OUT_COUNT, a.OPTED_OUT_COUNT)
                .set(CAMPAIGNS.BOOKED_COUNT, a.BOOKED_COUNT)
                .from(a)
                .where(a.CAMPAIGN_ID.eq(CAMPAIGNS.ID))
                .and(which)
                .and(DSL.row(CAMPAIGNS.ACTIVE_LEADS_COUNT, CAMPAIGNS.COMPLETED_LEADS_COUNT,
                                CAMPAIGNS.OPTED_OUT_COUNT, CAMPAIGNS.BOOKED_COUNT)
                        .isDistinctFrom(a.ACTIVE_LEADS_COUNT, a.COMPLETED_LEADS_COUNT,
                                a.OPTED_OUT_COUNT, a.BOOKED_COUNT))
                .execute();
    }

    static List<Map<String, Object>> drift(DSLContext dsl) {
        var a = DE_ENROLLMENT_CAMPAIGN_COUNTERS.as("a");
        Result<? extends Record> rows = dsl.select(CAMPAIGNS.ID, CAMPAIGNS.NAME,
                        CAMPAIGNS.ACTIVE_LEADS_COUNT, CAMPAIGNS.COMPLETED_LEADS_COUNT, CAMPAIGNS.OPTED_OUT_COUNT, CAMPAIGNS.BOOKED_COUNT,
                        a.ACTIVE_LEADS_COUNT, a.COMPLETED_LEADS_COUNT, a.OPTED_OUT_COUNT, a.BOOKED_COUNT)
                .from(CAMPAIGNS).join(a).on(a.CAMPAIGN_ID.eq(CAMPAIGNS.ID))
                .where(DSL.row(CAMPAIGNS.ACTIVE_LEADS_COUNT, CAMPAIGNS.COMPLETED_LEADS_COUNT,
                                CAMPAIGNS.OPTED_OUT_COUNT, CAMPAIGNS.BOOKED_COUNT)
                        .isDistinctFrom(a.ACTIVE_LEADS_COUNT, a.COMPLETED_LEADS_COUNT, a.OPTED_OUT_COUNT, a.BOOKED_COUNT))
                .orderBy(CAMPAIGNS.NAME, CAMPAIGNS.ID)
                .fetch();
        List<Map<String, Object>> out = new ArrayList<>();
        for (Record r : rows) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("campaignId", r.get(0, java.util.UUID.class).toString());
            d.put("campaignName", r.get(1, String.class));
            List<String> parts = new ArrayList<>();
            for (int i = 0; i < COUNTERS.length; i++) {
                int reported = r.get(2 + i, Integer.class);
                int actual = r.get(6 + i, Integer.class);
                d.put(COUNTERS[i], Map.of("reported", reported, "actual", actual));
                if (reported != actual) {
                    parts.add(COUNTERS[i] + " " + reported + " → " + actual);
                }
            }
            d.put("summary", String.join(", ", parts));
            out.add(d);
        }
        return out;
    }
}
