package deenroll.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import deenroll.db.schema.tables.records.CampaignsRecord;
import deenroll.db.schema.tables.records.DeEnrollmentRunsRecord;
import deenroll.db.schema.tables.records.LeadsRecord;
import deenroll.support.Cli;
import deenroll.support.TestDatabase;
import org.jooq.DSLContext;
import org.jooq.JSONB;
import org.jooq.impl.DSL;

import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

import static deenroll.db.schema.Tables.CAMPAIGNS;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_LEAD_LOG;
import static deenroll.db.schema.Tables.DE_ENROLLMENT_RUNS;
import static deenroll.db.schema.Tables.LEADS;

/**
 * What the engine tests share: running `deenroll run` in-process and reading
 * back what it wrote (leads, lead log, run rows, counters) straight from the
 * database, without going through the code under test.
 */
final class EngineTestKit {

    static final ObjectMapper JSON = new ObjectMapper();

    private EngineTestKit() {
    }

    /** `deenroll run <args>` against {@code db}, with only DATABASE_URL in the environment. */
    static Cli.Result run(TestDatabase db, String... args) {
        return run(db, Map.of(), args);
    }

    static Cli.Result run(TestDatabase db, Map<String, String> env, String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "run";
        System.arraycopy(args, 0, all, 1, args.length);
        return Cli.run(db, env, all);
    }

    /** The one JSON document `--output json` prints on stdout. */
    static JsonNode json(Cli.Result result) {
        return json(result.out());
    }

    static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("not JSON: " + text, e);
        }
    }

    static String describe(Cli.Result result) {
        return "exit " + result.exitCode() + "\nstdout:\n" + result.out() + "\nstderr:\n" + result.err();
    }

    static LeadsRecord lead(DSLContext dsl, UUID id) {
        return dsl.selectFrom(LEADS).where(LEADS.ID.eq(id)).fetchSingle();
    }

    /** Every lead, by id: a snapshot to compare whole rows before and after a run. */
    static Map<UUID, LeadsRecord> leads(DSLContext dsl) {
        return dsl.selectFrom(LEADS).fetchMap(LEADS.ID);
    }

    static Map<UUID, CampaignsRecord> campaigns(DSLContext dsl) {
        return dsl.selectFrom(CAMPAIGNS).fetchMap(CAMPAIGNS.ID);
    }

    static CampaignsRecord campaign(DSLContext dsl, UUID id) {
        return dsl.selectFrom(CAMPAIGNS).where(CAMPAIGNS.ID.eq(id)).fetchSingle();
    }

    /** How many lead-log rows with {@code action} the lead has, over all runs. */
    static int logRows(DSLContext dsl, UUID leadId, String action) {
        return dsl.fetchCount(DE_ENROLLMENT_LEAD_LOG,
                DE_ENROLLMENT_LEAD_LOG.LEAD_ID.eq(leadId).and(DE_ENROLLMENT_LEAD_LOG.ACTION.eq(action)));
    }

    static int logRows(DSLContext dsl) {
        return dsl.fetchCount(DE_ENROLLMENT_LEAD_LOG);
    }

    static List<DeEnrollmentRunsRecord> runRows(DSLContext dsl) {
        return dsl.selectFrom(DE_ENROLLMENT_RUNS).orderBy(DE_ENROLLMENT_RUNS.RUN_AT, DE_ENROLLMENT_RUNS.ID).fetch();
    }

    static List<DeEnrollmentRunsRecord> runRows(DSLContext dsl, UUID clientId) {
        return dsl.selectFrom(DE_ENROLLMENT_RUNS).where(DE_ENROLLMENT_RUNS.CLIENT_ID.eq(clientId))
                .orderBy(DE_ENROLLMENT_RUNS.RUN_AT, DE_ENROLLMENT_RUNS.ID).fetch();
    }

    /** A {@code {outcome: count}} object (by_outcome) as a map. */
    static Map<String, Integer> counts(JSONB json) {
        return counts(json(json.data()));
    }

    static Map<String, Integer> counts(JsonNode object) {
        Map<String, Integer> counts = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : object.properties()) {
            counts.put(e.getKey(), e.getValue().asInt());
        }
        return counts;
    }

    /** The lead's campaign_history as a list of entries (null when the column is SQL NULL). */
    static List<JsonNode> history(LeadsRecord lead) {
        if (lead.getCampaignHistory() == null) {
            return null;
        }
        return elements(lead.getCampaignHistory().data());
    }

    /** The elements of a JSON array given as text. */
    static List<JsonNode> elements(String jsonArray) {
        List<JsonNode> elements = new ArrayList<>();
        json(jsonArray).forEach(elements::add);
        return elements;
    }

    static Instant instant(JsonNode text) {
        return OffsetDateTime.parse(text.asText()).toInstant();
    }

    /** Leads (of all clients) with more than one de_enrolled log row: must always be empty. */
    static List<UUID> leadsLoggedTwice(DSLContext dsl) {
        return dsl.select(DE_ENROLLMENT_LEAD_LOG.LEAD_ID).from(DE_ENROLLMENT_LEAD_LOG)
                .where(DE_ENROLLMENT_LEAD_LOG.ACTION.eq("de_enrolled"))
                .groupBy(DE_ENROLLMENT_LEAD_LOG.LEAD_ID).having(DSL.count().gt(1))
                .fetch(DE_ENROLLMENT_LEAD_LOG.LEAD_ID);
    }

    /** The smallest value of any campaign counter: must never be below zero. */
    static int smallestCounter(DSLContext dsl) {
        Integer min = dsl.select(DSL.min(DSL.least(CAMPAIGNS.ACTIVE_LEADS_COUNT, CAMPAIGNS.COMPLETED_LEADS_COUNT,
                CAMPAIGNS.OPTED_OUT_COUNT, CAMPAIGNS.BOOKED_COUNT))).from(CAMPAIGNS).fetchOne(0, Integer.class);
        return min == null ? 0 : min;
    }
}
