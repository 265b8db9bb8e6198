-- 0020 campaign model: activity flag, counters, and the sequence as a messages array.
--
-- The counters are defined once, in de_enrollment_campaign_counters(): every
-- command (this migration, the engine's checks, verify, reconcile) reads that
-- function. Columns are added without constraints the host application could
-- trip over: it does not know them, so it never writes them.

ALTER TABLE campaigns ADD COLUMN IF NOT EXISTS is_active             boolean NOT NULL DEFAULT true;
ALTER TABLE campaigns ADD COLUMN IF NOT EXISTS active_leads_count    integer NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN IF NOT EXISTS completed_leads_count integer NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN IF NOT EXISTS opted_out_count       integer NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN IF NOT EXISTS booked_count          integer NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN IF NOT EXISTS deactivated_at        timestamptz;
ALTER TABLE campaigns ADD COLUMN IF NOT EXISTS last_enrollment_at    timestamptz;
ALTER TABLE campaigns ADD COLUMN IF NOT EXISTS auto_discovered       boolean NOT NULL DEFAULT false;

-- Legacy single-message campaigns: the template becomes the one step of the
-- sequence. Only where there is a template and no sequence yet; a campaign with
-- neither stays without a sequence (nobody invents its content), so its leads
-- are never eligible.
UPDATE campaigns
SET messages = jsonb_build_array(jsonb_build_object(
      'step', 1, 'delayMinutes', 0, 'text', message_template, 'type', 'sms'))
WHERE message_template IS NOT NULL
  AND btrim(message_template) <> ''
  AND (messages IS NULL OR messages = '[]'::jsonb);

-- DESIGN §3 "counters": the value each counter must have, computed from the leads.
CREATE OR REPLACE FUNCTION de_enrollment_campaign_counters()
RETURNS TABLE (campaign_id uuid,
               active_leads_count integer,
               completed_leads_count integer,
               opted_out_count integer,
               booked_count integer)
LANGUAGE sql STABLE
AS $$
  SELECT c.id,
         count(l.id) FILTER (WHERE l.is_active AND NOT l.opted_out)::integer,
         count(l.id) FILTER (WHERE l.completed_at IS NOT NULL)::integer,
         count(l.id) FILTER (WHERE l.opted_out)::integer,
         count(l.id) FILTER (WHERE l.booked)::integer
  FROM campaigns AS c
  LEFT JOIN leads AS l ON l.campaign_link_id = c.id
  GROUP BY c.id
$$;

COMMENT ON FUNCTION de_enrollment_campaign_counters() IS
  'The definition of the campaign counters (DESIGN 3): what each must equal, per campaign.';

UPDATE campaigns AS c
SET active_leads_count    = a.active_leads_count,
    completed_leads_count = a.completed_leads_count,
    opted_out_count       = a.opted_out_count,
    booked_count          = a.booked_count
FROM de_enrollment_campaign_counters() AS a
WHERE a.campaign_id = c.id
  AND (c.active_leads_count, c.completed_leads_count, c.opted_out_count, c.booked_count)
      IS DISTINCT FROM
      (a.active_leads_count, a.completed_leads_count, a.opted_out_count, a.booked_count);

UPDATE campaigns AS c
SET last_enrollment_at = e.last_enrolled
FROM (SELECT campaign_link_id, max(enrolled_at) AS last_enrolled
      FROM leads
      WHERE campaign_link_id IS NOT NULL AND enrolled_at IS NOT NULL
      GROUP BY campaign_link_id) AS e
WHERE e.campaign_link_id = c.id
  AND c.last_enrollment_at IS NULL;
