package deenroll.db;

import deenroll.support.TestDatabase;

import java.util.UUID;

/**
 * The platform's data as it looks before deenroll ever ran, written with plain
 * SQL into the host schema (the tool's columns do not exist yet): every shape of
 * campaign sequence the host application has written, and leads at every
 * position, including past the end of their sequence.
 */
final class HostData {

    static final String TEMPLATE_ONLY_TEXT = "Hi {{first_name}}, your consultation is still open: reply YES to book";
    static final String TEMPLATE_WITH_EMPTY_TEXT = "Last reminder: reply STOP to opt out";

    final UUID acme = UUID.randomUUID();
    final UUID dormant = UUID.randomUUID();
    /** messages = 3-element array. */
    final UUID threeSteps = UUID.randomUUID();
    /** message_template, messages NULL: the legacy single-message format. */
    final UUID templateOnly = UUID.randomUUID();
    /** message_template, messages '[]'. */
    final UUID templateWithEmpty = UUID.randomUUID();
    /** neither template nor messages: no sequence at all. */
    final UUID neither = UUID.randomUUID();
    /** template and a 2-element array: the array is the sequence, the template is ignored. */
    final UUID templateAndMessages = UUID.randomUUID();
    /** messages is a JSON object, not an array: malformed, the migration must survive it. */
    final UUID malformed = UUID.randomUUID();
    /** a campaign of the inactive client. */
    final UUID dormantCampaign = UUID.randomUUID();

    static HostData loadInto(TestDatabase db) {
        HostData d = new HostData();
        StringBuilder sql = new StringBuilder();
        sql.append("INSERT INTO clients (id, name, is_active) VALUES ('").append(d.acme).append("', 'Acme', true), ('")
                .append(d.dormant).append("', 'Dormant', false);\n");
        sql.append("INSERT INTO campaigns (id, client_id, name, message_template, messages) VALUES\n")
                .append(campaign(d.threeSteps, d.acme, "Three steps", null,
                        "[{\"step\":1,\"text\":\"a\"},{\"step\":2,\"text\":\"b\"},{\"step\":3,\"text\":\"c\"}]")).append(",\n")
                .append(campaign(d.templateOnly, d.acme, "Template only", TEMPLATE_ONLY_TEXT, null)).append(",\n")
                .append(campaign(d.templateWithEmpty, d.acme, "Template, empty messages", TEMPLATE_WITH_EMPTY_TEXT, "[]")).append(",\n")
                .append(campaign(d.neither, d.acme, "Neither", null, null)).append(",\n")
                .append(campaign(d.templateAndMessages, d.acme, "Both", "old template",
                        "[{\"step\":1,\"text\":\"x\"},{\"step\":2,\"text\":\"y\"}]")).append(",\n")
                .append(campaign(d.malformed, d.acme, "Malformed", null, "{\"steps\":2}")).append(",\n")
                .append(campaign(d.dormantCampaign, d.dormant, "Dormant", null, "[{\"step\":1,\"text\":\"z\"}]"))
                .append(";\n");
        // position, is_active, opted_out, booked
        sql.append(leads(d.acme, d.threeSteps,
                "(0, true, false, false)",   // in sequence
                "(2, true, false, false)",   // in sequence
                "(3, true, false, false)",   // finished: eligible
                "(7, true, false, false)",   // past the end: eligible
                "(3, true, false, true)",    // booked, finished: eligible
                "(1, true, true, false)",    // opted out, still active
                "(3, false, true, false)",   // opted out and inactive
                "(3, false, false, false)")); // inactive
        sql.append(leads(d.acme, d.templateOnly, "(1, true, false, false)", "(0, true, false, false)"));
        sql.append(leads(d.acme, d.templateWithEmpty, "(5, true, false, false)"));
        sql.append(leads(d.acme, d.neither, "(4, true, false, false)"));
        sql.append(leads(d.acme, d.templateAndMessages, "(1, true, false, false)"));
        sql.append(leads(d.acme, d.malformed, "(2, true, false, false)"));
        sql.append(leads(d.dormant, d.dormantCampaign, "(1, true, false, false)"));
        sql.append(leads(d.acme, null, "(0, true, false, false)"));  // not in any campaign
        db.sql(sql.toString());
        return d;
    }

    /** Leads that are eligible by the definition once the migrations ran (nobody de-enrolls them there). */
    static final int ELIGIBLE_AFTER_MIGRATION = 3 /* three steps */ + 1 /* template only */
            + 1 /* template, empty messages */ + 1 /* dormant */;

    private static String campaign(UUID id, UUID client, String name, String template, String messages) {
        return "('" + id + "', '" + client + "', '" + name + "', " + literal(template) + ", "
                + (messages == null ? "NULL" : "'" + messages + "'::jsonb") + ")";
    }

    private static String leads(UUID client, UUID campaign, String... positionActiveOptedOutBooked) {
        StringBuilder sql = new StringBuilder("INSERT INTO leads (id, client_id, campaign_link_id, first_name,"
                + " current_message_position, is_active, opted_out, booked, enrolled_at, last_message_at)"
                + " SELECT md5(random()::text || clock_timestamp()::text || v.p::text || v.a::text)::uuid, '")
                .append(client).append("', ").append(campaign == null ? "NULL::uuid" : "'" + campaign + "'::uuid")
                .append(", 'Lead', v.p, v.a, v.o, v.b, now() - interval '30 days', now() - interval '2 days'"
                        + " FROM (VALUES ");
        sql.append(String.join(", ", positionActiveOptedOutBooked));
        return sql.append(") AS v(p, a, o, b);\n").toString();
    }

    private static String literal(String text) {
        return text == null ? "NULL" : "'" + text.replace("'", "''") + "'";
    }
}
