package deenroll.ops;

import deenroll.control.Pause;
import deenroll.control.Quiescence;
import deenroll.control.Timestamps;
import deenroll.db.Catalog;
import org.jooq.DSLContext;
import org.jooq.Record;
import org.jooq.impl.DSL;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static deenroll.db.Among.among;
import static deenroll.db.schema.Tables.CAMPAIGNS;

/**
 * Puts back, from a recorded backup, only what deenroll changed after it was
 * taken; every change the host application made since is left alone.
 * <ul>
 * <li>Leads the lead log shows de-enrolled after the backup (the backup row does
 * not carry that de-enrollment's completed_at) and still exactly as the
 * de-enrollment left them (inactive, completed_at = the log row's processed_at,
 * both the now() of one transaction): is_active, completed_at and
 * campaign_history from the backup.</li>
 * <li>Columns that `migrate` re-created after the backup (a rollback of
 * 0019/0020 dropped them): their values are the migration's defaults, not the
 * host's, so they come back from the backup for every row it holds.</li>
 * </ul>
 * The de-enrollments put back are marked in the lead log (restored_at, 0029),
 * so that one undone and one done again after the restore are not "de-enrolled
 * twice" to verify. The counters of every campaign touched are then recomputed
 * by their one definition. Applying needs the pause and no live invocation, and leaves the
 * pause in force: the restored leads are still past their last message, and
 * the operator decides when runs may de-enroll them again.
 */
public final class Restore {

    /** The columns 0020 adds and a plain update never touches; the counters are recomputed instead. */
    private static final List<String> CAMPAIGN_FLAGS = List.of("is_active", "deactivated_at", "last_enrollment_at", "auto_discovered");

    private final DSLContext dsl;
    private final Backups backups;

    public Restore(DSLContext dsl) {
        this.dsl = dsl;
        this.backups = new Backups(dsl);
    }

    /** The plan and, with {@code apply}, the restore. */
    public OpsReport from(String day, boolean apply) {
        BackupRecord backup = backups.verified(day);
        String leads = BackupRecord.leadsTable(day);
        String campaigns = BackupRecord.campaignsTable(day);
        boolean leadColumnsRecreated = recreatedSince(19, backup.takenAt());
        boolean campaignColumnsRecreated = recreatedSince(20, backup.takenAt());
        Sets sets = new Sets(leads, campaigns, new Catalog(dsl).relationExists("de_enrollment_lead_log"),
                leadColumnsRecreated, campaignColumnsRecreated);

        List<String> lines = new ArrayList<>();
        Map<String, Object> json = new LinkedHashMap<>();
        lines.add("backup " + day + " taken " + Timestamps.text(backup.takenAt())
                + ", row counts as recorded (" + backup.rows().get(leads) + " leads)");
        if (leadColumnsRecreated) {
            lines.add("completed_at, campaign_history were re-created by `migrate` after the backup: every lead's come back from it");
        }
        if (campaignColumnsRecreated) {
            lines.add("the campaign flags were re-created by `migrate` after the backup: they come back from it");
        }
        List<Map<String, Object>> perClient = new ArrayList<>();
        long totalLeads = 0;
        long totalCampaigns = 0;
        long changedByHost = 0;
        for (Record r : dsl.fetch(sets.perClient())) {
            long n = r.get("leads", Long.class);
            long c = r.get("campaigns", Long.class);
            long h = r.get("host_changed", Long.class);
            totalLeads += n;
            totalCampaigns += c;
            changedByHost += h;
            lines.add(String.format("  %s (%s): %d lead(s), %d campaign(s)%s", r.get("name"), r.get("id"), n, c,
                    h == 0 ? "" : "; " + h + " lead(s) changed by the host since, left alone"));
            Map<String, Object> client = new LinkedHashMap<>();
            client.put("clientId", r.get("id", String.class));
            client.put("clientName", r.get("name", String.class));
            client.put("leads", n);
            client.put("campaigns", c);
            client.put("leadsChangedByHostLeftAlone", h);
            perClient.add(client);
        }
        if (changedByHost > 0) {
            lines.add(changedByHost + " lead(s) de-enrolled after the backup were changed since (by the host): left as they are");
        }
        json.put("day", day);
        json.put("takenAt", Timestamps.json(backup.takenAt()));
        json.put("leadColumnsRecreated", leadColumnsRecreated);
        json.put("campaignColumnsRecreated", campaignColumnsRecreated);
        json.put("clients", perClient);
        json.put("leadsChangedByHostLeftAlone", changedByHost);
        json.put("applied", apply);
        if (!apply) {
            lines.add(0, "plan (nothing changed; `--yes` applies it):");
            lines.add(String.format("would put back %d lead(s) and %d campaign(s)", totalLeads, totalCampaigns));
            json.put("leadsRestored", totalLeads);
            json.put("campaignsRestored", totalCampaigns);
            return new OpsReport(lines, json, false);
        }
        Pause pause = new Quiescence(dsl).require("restore");
        long[] done = new long[2];
        dsl.transaction(cfg -> {
            DSLContext tx = cfg.dsl();
            // campaigns first, in id order, as a de-enrollment batch locks them
            tx.select(CAMPAIGNS.ID).from(CAMPAIGNS).orderBy(CAMPAIGNS.ID).forNoKeyUpdate().fetch();
            List<UUID> touched = tx.fetch(sets.campaignsTouched()).getValues(0, UUID.class);
            if (sets.logExists()) {
                // the leads put back, and their de-enrollments marked as undone (one log row per lead)
                done[0] += tx.execute("WITH d AS (" + sets.deEnrolledSince() + "),"
                        + " put_back AS (UPDATE leads AS l SET is_active = b.is_active, completed_at = b.completed_at,"
                        + "   campaign_history = b.campaign_history, updated_at = now()"
                        + "   FROM d JOIN " + leads + " AS b ON b.id = d.id"
                        + "   WHERE l.id = d.id AND d.as_left RETURNING l.id)"
                        + " UPDATE de_enrollment_lead_log AS g SET restored_at = now()"
                        + " FROM d JOIN put_back AS p ON p.id = d.id WHERE g.id = d.log_id");
            }
            if (leadColumnsRecreated) {
                done[0] += tx.execute("UPDATE leads AS l SET completed_at = b.completed_at, campaign_history = b.campaign_history"
                        + " FROM " + leads + " AS b WHERE b.id = l.id AND (l.completed_at, l.campaign_history)"
                        + " IS DISTINCT FROM (b.completed_at, b.campaign_history)");
            }
            if (campaignColumnsRecreated) {
                tx.execute("UPDATE campaigns AS c SET " + String.join(", ", CAMPAIGN_FLAGS.stream().map(f -> f + " = b." + f).toList())
                        + " FROM " + campaigns + " AS b WHERE b.id = c.id AND (" + tuple("c") + ") IS DISTINCT FROM (" + tuple("b") + ")");
            }
            Reconcile.recompute(tx, campaignColumnsRecreated ? DSL.trueCondition()
                    : among(CAMPAIGNS.ID, touched.toArray(UUID[]::new)));
            done[1] = touched.size();
        });
        lines.add(String.format("put back %d lead(s); counters of %d campaign(s) recomputed by their definition", done[0], done[1]));
        lines.add("⏸ de-enrollment stays paused (" + pause.since() + "): the restored leads are still past their last"
                + " message, so the next run after `deenroll resume` de-enrolls them again; resume once that is what you want");
        lines.add("next: `deenroll verify`");
        json.put("leadsRestored", done[0]);
        json.put("campaignsRestored", done[1]);
        json.put("paused", pause.json());
        return new OpsReport(lines, json, false);
    }

    /** True when Flyway applied {@code version} after {@code takenAt}: its columns were re-created since the backup. */
    private boolean recreatedSince(int version, OffsetDateTime takenAt) {
        return Boolean.TRUE.equals(dsl.fetchValue(DSL.field("(SELECT bool_or(installed_on::timestamptz > {0})"
                + " FROM flyway_schema_history WHERE version = {1} AND success)", Boolean.class,
                DSL.val(takenAt), DSL.val(String.valueOf(version)))));
    }

    private static String tuple(String alias) {
        return String.join(", ", CAMPAIGN_FLAGS.stream().map(f -> alias + "." + f).toList());
    }

    /** The rows a restore changes, as SQL over the live tables and the backup's. */
    private record Sets(String leads, String campaigns, boolean logExists, boolean leadColumnsRecreated,
                        boolean campaignColumnsRecreated) {

        /**
         * Leads in the backup de-enrolled after it (their last 'de_enrolled' row
         * not already undone by a restore, {@code log_id}, is not what the
         * backup saw); {@code as_left}: still as that
         * de-enrollment left them, so nobody else changed them since.
         */
        String deEnrolledSince() {
            return "SELECT l.id, l.client_id, l.campaign_link_id, g.id AS log_id,"
                    + " (NOT l.is_active AND l.completed_at IS NOT DISTINCT FROM g.processed_at) AS as_left"
                    + " FROM (SELECT DISTINCT ON (lead_id) id, lead_id, processed_at FROM de_enrollment_lead_log"
                    + "       WHERE action = 'de_enrolled' AND restored_at IS NULL ORDER BY lead_id, processed_at DESC) AS g"
                    + " JOIN leads AS l ON l.id = g.lead_id JOIN " + leads + " AS b ON b.id = g.lead_id"
                    + " WHERE b.completed_at IS DISTINCT FROM g.processed_at";
        }

        /** {@link #deEnrolledSince()}, or no rows when there is no lead log (a rollback of 0021 dropped it). */
        private String deEnrolled() {
            return logExists ? deEnrolledSince()
                    : "SELECT NULL::uuid AS id, NULL::uuid AS client_id, NULL::uuid AS campaign_link_id, NULL::bigint AS log_id,"
                            + " false AS as_left WHERE false";
        }

        /**
         * The sets as CTEs, each evaluated once: d (de-enrolled since the
         * backup), ch (every lead a restore changes: id, client_id,
         * campaign_link_id), k (the campaigns whose flags or counters it may change).
         */
        private String sets() {
            String changed = "SELECT id, client_id, campaign_link_id FROM d WHERE as_left"
                    + (leadColumnsRecreated ? " UNION SELECT l.id, l.client_id, l.campaign_link_id FROM leads AS l JOIN " + leads
                            + " AS b ON b.id = l.id WHERE (l.completed_at, l.campaign_history)"
                            + " IS DISTINCT FROM (b.completed_at, b.campaign_history)" : "");
            String touched = "SELECT DISTINCT campaign_link_id AS id FROM ch WHERE campaign_link_id IS NOT NULL"
                    + (campaignColumnsRecreated ? " UNION SELECT c.id FROM campaigns AS c JOIN " + campaigns + " AS b ON b.id = c.id"
                            + " WHERE (" + tuple("c") + ") IS DISTINCT FROM (" + tuple("b") + ")" : "");
            return "WITH d AS MATERIALIZED (" + deEnrolled() + "), ch AS MATERIALIZED (" + changed + "), k AS (" + touched + ")";
        }

        /** The campaigns whose flags or counters a restore may change. */
        String campaignsTouched() {
            return sets() + " SELECT id FROM k";
        }

        /** Per client: leads changed, campaigns touched, leads de-enrolled since but changed by the host (left alone). */
        String perClient() {
            return sets() + ","
                    + " nl AS (SELECT client_id, count(*) AS n FROM ch GROUP BY client_id),"
                    + " nc AS (SELECT c.client_id, count(*) AS n FROM campaigns AS c JOIN k ON k.id = c.id GROUP BY c.client_id),"
                    + " nh AS (SELECT client_id, count(*) AS n FROM d WHERE NOT as_left GROUP BY client_id)"
                    + " SELECT cl.id::text AS id, cl.name, coalesce(nl.n, 0) AS leads, coalesce(nc.n, 0) AS campaigns,"
                    + " coalesce(nh.n, 0) AS host_changed"
                    + " FROM clients AS cl LEFT JOIN nl ON nl.client_id = cl.id LEFT JOIN nc ON nc.client_id = cl.id"
                    + " LEFT JOIN nh ON nh.client_id = cl.id"
                    + " WHERE nl.n IS NOT NULL OR nc.n IS NOT NULL OR nh.n IS NOT NULL"
                    + " ORDER BY cl.name, cl.id";
        }
    }
}
