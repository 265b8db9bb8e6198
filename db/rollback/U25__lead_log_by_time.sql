-- Rollback of 0025: the lead log's lead_id index comes back (building it reads
-- the whole lead log; batches wait for that) and the look-up function goes.
-- A deenroll that needs 0025 refuses this database afterwards; run the
-- previous release's jar.
CREATE INDEX IF NOT EXISTS de_enrollment_lead_log_lead_idx ON de_enrollment_lead_log (lead_id);
DROP FUNCTION IF EXISTS de_enrollment_lead_log_of(uuid);

CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 24 $$;
