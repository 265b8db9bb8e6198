-- Rollback of 0020: removes the campaign flags and counters.
-- `messages` is kept as it is: the host application reads it, and the legacy
-- `message_template` it was built from was never changed, so no content is lost.

DROP FUNCTION IF EXISTS de_enrollment_campaign_counters();
ALTER TABLE campaigns
  DROP COLUMN IF EXISTS is_active,
  DROP COLUMN IF EXISTS active_leads_count,
  DROP COLUMN IF EXISTS completed_leads_count,
  DROP COLUMN IF EXISTS opted_out_count,
  DROP COLUMN IF EXISTS booked_count,
  DROP COLUMN IF EXISTS deactivated_at,
  DROP COLUMN IF EXISTS last_enrollment_at,
  DROP COLUMN IF EXISTS auto_discovered;

DO $$ BEGIN RAISE NOTICE 'rolled back 0020 (campaign model)'; END $$;
