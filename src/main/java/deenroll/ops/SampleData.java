package deenroll.ops;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.Random;
import java.util.UUID;

/**
 * Realistic host data for the demo, written as the host application would
 * before deenroll's migrations: several clients (one inactive), campaigns with
 * sequences of different lengths, a legacy single-template campaign, a
 * malformed one, and leads at every stage: in flight, finished, booked, opted
 * out, stopped by hand, with and without earlier history. Deterministic (seeded).
 */
public final class SampleData {

    public record Summary(int clients, int campaigns, int leads, int finished) {
    }

    private static final String[] CLIENTS = {"Acme Dental", "Brightside Realty", "Northwind Fitness",
            "Old Harbor Legal (inactive)"};
    private static final String[] CAMPAIGN_KINDS = {"New patient follow-up", "Spring promo", "Win-back",
            "Webinar reminder"};

    private final Random random = new Random(20261129L);
    private final Instant now = Instant.now();

    public Summary load(Connection c, int leadsPerCampaign) throws SQLException {
        int campaigns = 0;
        int leads = 0;
        int finished = 0;
        try (PreparedStatement client = c.prepareStatement(
                     "INSERT INTO clients (id, name, is_active, created_at) VALUES (?, ?, ?, ?)");
             PreparedStatement campaign = c.prepareStatement(
                     "INSERT INTO campaigns (id, client_id, name, message_template, messages, created_at) VALUES (?, ?, ?, ?, ?::jsonb, ?)");
             PreparedStatement lead = c.prepareStatement(
                     "INSERT INTO leads (id, client_id, campaign_link_id, first_name, last_name, phone, email,"
                     + " current_message_position, is_active, opted_out, booked, enrolled_at, last_message_at, created_at, updated_at)"
                     + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            for (int ci = 0; ci < CLIENTS.length; ci++) {
                UUID clientId = id("client", ci);
                client.setObject(1, clientId);
                client.setString(2, CLIENTS[ci]);
                client.setBoolean(3, ci < CLIENTS.length - 1);
                client.setTimestamp(4, ago(Duration.ofDays(400 - ci)));
                client.executeUpdate();
                for (int k = 0; k < CAMPAIGN_KINDS.length; k++) {
                    UUID campaignId = id("campaign", ci * 10 + k);
                    int steps = 3 + (ci + k) % 4;
                    String template = null;
                    String messages = sequence(steps);
                    if (ci == 0 && k == 3) {
                        // legacy single-template campaign: migration 0020 turns it into a one-step sequence
                        template = "Hi {{first_name}}, your webinar starts tomorrow at 10am.";
                        messages = null;
                        steps = 1;
                    } else if (ci == 1 && k == 3) {
                        messages = "{\"step\": 1, \"text\": \"not an array\"}"; // malformed: never de-enrolls anyone
                    }
                    campaign.setObject(1, campaignId);
                    campaign.setObject(2, clientId);
                    campaign.setString(3, CAMPAIGN_KINDS[k] + " — " + CLIENTS[ci].replace(" (inactive)", ""));
                    campaign.setString(4, template);
                    if (messages == null) {
                        campaign.setNull(5, Types.OTHER);
                    } else {
                        campaign.setString(5, messages);
                    }
                    campaign.setTimestamp(6, ago(Duration.ofDays(120)));
                    campaign.executeUpdate();
                    campaigns++;
                    for (int li = 0; li < leadsPerCampaign; li++) {
                        boolean done = addLead(lead, clientId, campaignId, steps, ci * 100_000 + k * 10_000 + li);
                        if (done && !(ci == 1 && k == 3) && ci < CLIENTS.length - 1) {
                            finished++;
                        }
                        leads++;
                    }
                    lead.executeBatch();
                }
            }
        }
        return new Summary(CLIENTS.length, campaigns, leads, finished);
    }

    /** Adds one lead to the batch; true when it sits at or past the end of its sequence, still active. */
    private boolean addLead(PreparedStatement lead, UUID clientId, UUID campaignId, int steps, int n) throws SQLException {
        double roll = random.nextDouble();
        boolean finishedSequence = roll < 0.4;
        int position = finishedSequence ? steps + (random.nextDouble() < 0.1 ? 1 : 0) : random.nextInt(steps);
        boolean active = !(roll > 0.97);            // 3 % stopped by hand
        boolean optedOut = random.nextDouble() < 0.06;
        boolean booked = random.nextDouble() < 0.12;
        Duration enrolled = Duration.ofHours(24L + random.nextInt(24 * 30));
        Duration lastMessage = finishedSequence ? Duration.ofMinutes(5L + random.nextInt(60 * 48))
                : Duration.ofMinutes(random.nextInt(60 * 24));
        lead.setObject(1, id("lead", n));
        lead.setObject(2, clientId);
        lead.setObject(3, campaignId);
        lead.setString(4, FIRST[n % FIRST.length]);
        lead.setString(5, LAST[(n / 7) % LAST.length]);
        lead.setString(6, String.format("+1555%07d", n));
        lead.setString(7, "lead" + n + "@example.com");
        lead.setInt(8, position);
        lead.setBoolean(9, active);
        lead.setBoolean(10, optedOut);
        lead.setBoolean(11, booked);
        lead.setTimestamp(12, random.nextDouble() < 0.02 ? null : ago(enrolled));
        lead.setTimestamp(13, position == 0 ? null : ago(lastMessage));
        lead.setTimestamp(14, ago(enrolled.plusHours(1)));
        lead.setTimestamp(15, ago(lastMessage));
        lead.addBatch();
        return finishedSequence && active;
    }

    private String sequence(int steps) {
        StringBuilder json = new StringBuilder("[");
        for (int s = 1; s <= steps; s++) {
            json.append(s > 1 ? "," : "").append("{\"step\":").append(s).append(",\"delayMinutes\":")
                    .append((s - 1) * 1440).append(",\"text\":\"Message ").append(s).append(" of ").append(steps)
                    .append("\",\"type\":\"").append(s % 2 == 0 ? "email" : "sms").append("\"}");
        }
        return json.append(']').toString();
    }

    private Timestamp ago(Duration d) {
        return Timestamp.from(now.minus(d));
    }

    private static UUID id(String kind, int n) {
        return UUID.nameUUIDFromBytes((kind + ":" + n).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static final String[] FIRST = {"Ana", "Ben", "Chloé", "Dmitri", "Eve", "Farah", "Gus", "Hana", "Ivan", "Jo"};
    private static final String[] LAST = {"O'Brien", "Nguyen", "Smith", "García", "Müller", "Kowalski", "Okafor"};
}
