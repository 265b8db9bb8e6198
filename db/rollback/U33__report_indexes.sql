-- Rollback of 0033: the weekly report reads its errors through the time
-- indexes again. Nothing is lost: 0033 added two indexes only.

DROP INDEX IF EXISTS de_enrollment_runs_failed_idx;
DROP INDEX IF EXISTS de_enrollment_lead_log_errors_idx;

CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 32 $$;

DO $$ BEGIN RAISE NOTICE 'rolled back 0033 (report indexes)'; END $$;
