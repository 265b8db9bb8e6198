-- 0033 the weekly report's top errors read only the errors.
--
-- report weekly counts the errors of the last 7 days: the failed runs'
-- error_details and the lead log's 'error' rows. Both were read through the
-- time indexes and filtered: with 2,000 clients, 7 days are 1.34M run rows of
-- which about 1,200 failed, and 150,000 lead-log rows of which about 1,500 are
-- errors (176 ms of the report; 13 ms with these). Both indexes are partial,
-- so they cost only the rows they hold: a run enters its index when it is
-- closed 'failed' (closing a run already moves an indexed column, so no HOT
-- update is lost), a lead-log row when it is an error.
-- Needs PostgreSQL 12+. Idempotent. Rollback: db/rollback/U33__report_indexes.sql.

CREATE INDEX IF NOT EXISTS de_enrollment_runs_failed_idx
  ON de_enrollment_runs (run_at) WHERE status = 'failed';

CREATE INDEX IF NOT EXISTS de_enrollment_lead_log_errors_idx
  ON de_enrollment_lead_log (processed_at) WHERE action = 'error';

CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 33 $$;
