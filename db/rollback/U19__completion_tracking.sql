-- Rollback of 0019: removes the completion columns from leads.
-- Leads de-enrolled by the tool keep is_active = false (the host's own column):
-- the rollback does not re-activate anyone. Their completion time and journey
-- history go with the columns, so take `deenroll backup` first; restoring them
-- must happen while the columns exist (before this rollback, or after `migrate`
-- re-adds them), never after they are dropped.

ALTER TABLE leads
  DROP COLUMN IF EXISTS completed_at,
  DROP COLUMN IF EXISTS campaign_history;

DO $$ BEGIN RAISE NOTICE 'rolled back 0019 (completion tracking)'; END $$;
