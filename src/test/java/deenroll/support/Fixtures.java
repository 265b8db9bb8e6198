package deenroll.support;

import org.jooq.DSLContext;
import org.jooq.JSONB;
import org.jooq.impl.DSL;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static deenroll.db.schema.Tables.CAMPAIGNS;
import static deenroll.db.schema.Tables.CLIENTS;
import static deenroll.db.schema.Tables.LEADS;

/**
 * Builds host data in a migrated test database, as the host application
 * writes it. Campaign counters are computed afterwards with {@link #recount()},
 * as migration 0020 does on a real database.
 */
public final class Fixtures {

    private static final AtomicInteger NAMES = new AtomicInteger();
    public static final OffsetDateTime LONG_AGO = OffsetDateTime.of(2026, 1, 1, 12, 0, 0, 0, ZoneOffset.UTC);

    private final DSLContext dsl;

    public Fixtures(DSLContext dsl) {
        this.dsl = dsl;
    }

    public UUID client(String name) {
        return client(name, true);
    }

    public UUID client(String name, boolean active) {
        UUID id = UUID.randomUUID();
        dsl.insertInto(CLIENTS).set(CLIENTS.ID, id).set(CLIENTS.NAME, name).set(CLIENTS.IS_ACTIVE, active)
                .set(CLIENTS.CREATED_AT, LONG_AGO).execute();
        return id;
    }

    /** A campaign whose sequence has {@code steps} messages. */
    public UUID campaign(UUID clientId, int steps) {
        StringBuilder json = new StringBuilder("[");
        for (int i = 1; i <= steps; i++) {
            json.append(i > 1 ? "," : "").append("{\"step\":").append(i).append(",\"text\":\"m").append(i).append("\"}");
        }
        return campaignWithMessages(clientId, json.append(']').toString());
    }

    /** A campaign with {@code messages} as given (raw JSON text, or null for SQL NULL). */
    public UUID campaignWithMessages(UUID clientId, String messagesJson) {
        UUID id = UUID.randomUUID();
        dsl.insertInto(CAMPAIGNS).set(CAMPAIGNS.ID, id).set(CAMPAIGNS.CLIENT_ID, clientId)
                .set(CAMPAIGNS.NAME, "Campaign " + NAMES.incrementAndGet())
                .set(CAMPAIGNS.MESSAGES, messagesJson == null ? null : JSONB.valueOf(messagesJson))
                .execute();
        return id;
    }

    /** An active lead at {@code position}, last message long ago (so it counts as stuck when eligible). */
    public UUID lead(UUID clientId, UUID campaignId, int position) {
        return lead(clientId, campaignId, position, false, false);
    }

    public UUID lead(UUID clientId, UUID campaignId, int position, boolean booked, boolean optedOut) {
        UUID id = UUID.randomUUID();
        dsl.insertInto(LEADS).set(LEADS.ID, id).set(LEADS.CLIENT_ID, clientId).set(LEADS.CAMPAIGN_LINK_ID, campaignId)
                .set(LEADS.FIRST_NAME, "Lead").set(LEADS.CURRENT_MESSAGE_POSITION, position)
                .set(LEADS.BOOKED, booked).set(LEADS.OPTED_OUT, optedOut)
                .set(LEADS.ENROLLED_AT, LONG_AGO).set(LEADS.LAST_MESSAGE_AT, LONG_AGO)
                .set(LEADS.CREATED_AT, LONG_AGO.minusDays(1)).set(LEADS.UPDATED_AT, LONG_AGO)
                .execute();
        return id;
    }

    /** {@code n} leads at {@code position}. */
    public void leads(UUID clientId, UUID campaignId, int position, int n) {
        for (int i = 0; i < n; i++) {
            lead(clientId, campaignId, position);
        }
    }

    /** Sets every campaign's counters to their definition (as migration 0020 does). */
    public void recount() {
        dsl.execute("UPDATE campaigns c SET active_leads_count = a.active_leads_count,"
                + " completed_leads_count = a.completed_leads_count, opted_out_count = a.opted_out_count,"
                + " booked_count = a.booked_count FROM de_enrollment_campaign_counters() a WHERE a.campaign_id = c.id");
    }

    /** Campaigns whose stored counters differ from their definition; must always be 0. */
    public int drift() {
        return dsl.fetchValue(DSL.field("(SELECT count(*) FROM campaigns c JOIN de_enrollment_campaign_counters() a"
                + " ON a.campaign_id = c.id WHERE (c.active_leads_count, c.completed_leads_count, c.opted_out_count,"
                + " c.booked_count) IS DISTINCT FROM (a.active_leads_count, a.completed_leads_count,"
                + " a.opted_out_count, a.booked_count))", Integer.class));
    }

    /** Leads eligible right now, by the single definition. */
    public int eligible() {
        return dsl.fetchValue(DSL.field("(SELECT count(*) FROM de_enrollment_eligible_leads)", Integer.class));
    }
}
