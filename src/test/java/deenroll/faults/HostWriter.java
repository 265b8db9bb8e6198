package deenroll.faults;

import deenroll.support.TestDatabase;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The host application writing while runs are in flight: leads advance, opt
 * out, book, new leads enroll (some already at the end), campaigns get a longer
 * sequence or are deactivated. Like a host that maintains the campaign counters
 * after migration 0020, it locks the campaign row first and recounts it in the
 * same transaction; deadlocks with a batch are expected and simply retried.
 */
final class HostWriter implements Runnable {

    private final String url;
    private final List<UUID> campaigns;
    private final Random random;
    private final int operations;
    private final AtomicBoolean stop = new AtomicBoolean();
    final AtomicInteger done = new AtomicInteger();
    final AtomicInteger conflicts = new AtomicInteger();

    HostWriter(TestDatabase db, FaultData data, long seed, int operations) {
        this.url = db.jdbcUrl();
        this.campaigns = data.campaigns;
        this.random = new Random(seed);
        this.operations = operations;
    }

    void stop() {
        stop.set(true);
    }

    @Override
    public void run() {
        try (Connection c = DriverManager.getConnection(url)) {
            c.setAutoCommit(false);
            while (!stop.get() && done.get() < operations) {
                UUID campaign = campaigns.get(random.nextInt(campaigns.size()));
                int op = random.nextInt(6);
                try {
                    exec(c, "SELECT 1 FROM campaigns WHERE id = ? FOR NO KEY UPDATE", campaign);
                    switch (op) {
                        case 0 -> exec(c, "UPDATE leads SET current_message_position = current_message_position + 1,"
                                + " last_message_at = now() WHERE id = (SELECT id FROM leads WHERE campaign_link_id = ?"
                                + " AND first_name = 'host' AND is_active AND completed_at IS NULL ORDER BY random() LIMIT 1)", campaign);
                        case 1 -> exec(c, "UPDATE leads SET opted_out = true WHERE id = (SELECT id FROM leads"
                                + " WHERE campaign_link_id = ? AND first_name = 'host' AND NOT opted_out ORDER BY random() LIMIT 1)", campaign);
                        case 2 -> exec(c, "UPDATE leads SET booked = true WHERE id = (SELECT id FROM leads"
                                + " WHERE campaign_link_id = ? AND first_name = 'host' AND NOT booked ORDER BY random() LIMIT 1)", campaign);
                        case 3 -> exec(c, "INSERT INTO leads (id, client_id, campaign_link_id, first_name, current_message_position,"
                                + " enrolled_at, created_at) SELECT ?::uuid, c.client_id, c.id, 'host',"
                                + " CASE WHEN ? THEN de_enrollment_sequence_length(c.messages) ELSE 0 END, now(), now()"
                                + " FROM campaigns c WHERE c.id = ?", UUID.randomUUID(), random.nextBoolean(), campaign);
                        case 4 -> exec(c, "UPDATE campaigns SET messages = messages || '[{\"step\":99,\"text\":\"added\"}]'::jsonb,"
                                + " updated_at = now() WHERE id = ? AND jsonb_array_length(messages) < 8", campaign);
                        default -> exec(c, "UPDATE campaigns SET is_active = NOT is_active, deactivated_at = now() WHERE id = ?", campaign);
                    }
                    exec(c, "UPDATE campaigns c SET active_leads_count = s.active, completed_leads_count = s.completed,"
                            + " opted_out_count = s.opted_out, booked_count = s.booked FROM (SELECT"
                            + " count(*) FILTER (WHERE is_active AND NOT opted_out) AS active,"
                            + " count(*) FILTER (WHERE completed_at IS NOT NULL) AS completed,"
                            + " count(*) FILTER (WHERE opted_out) AS opted_out, count(*) FILTER (WHERE booked) AS booked"
                            + " FROM leads WHERE campaign_link_id = ?) s WHERE c.id = ?", campaign, campaign);
                    c.commit();
                    done.incrementAndGet();
                } catch (SQLException e) {
                    c.rollback();
                    conflicts.incrementAndGet();
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("host writer: " + e.getMessage(), e);
        }
    }

    private static void exec(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                s.setObject(i + 1, args[i]);
            }
            s.execute();
        }
    }
}
