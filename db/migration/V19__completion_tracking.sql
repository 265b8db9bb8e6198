-- 0019 completion tracking: when a lead finished its sequence, and the journeys it made.
--
-- Schema only: this migration de-enrolls nobody. Leads already past their last
-- message are handled by `deenroll migrate-stuck-leads` (a deliberate step), not
-- here (the old 0019 marked every lead with a position >= 1 as completed).
-- Idempotent, so `psql -1 -f` on a database where it already ran is harmless.
-- PostgreSQL 12+: ADD COLUMN with a constant default does not rewrite the table.

ALTER TABLE leads ADD COLUMN IF NOT EXISTS completed_at timestamptz;
ALTER TABLE leads ADD COLUMN IF NOT EXISTS campaign_history jsonb DEFAULT '[]'::jsonb;

COMMENT ON COLUMN leads.completed_at IS
  'When deenroll de-enrolled the lead (NULL while it is in a sequence).';
COMMENT ON COLUMN leads.campaign_history IS
  'JSON array of finished journeys: {campaignId, campaignName, enrolledAt, completedAt, messagesReceived, outcome}.';
