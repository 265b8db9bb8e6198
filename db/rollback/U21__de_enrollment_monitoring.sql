-- Rollback of 0021: removes the monitoring tables, view and functions.
-- Host data (clients, campaigns, leads) is untouched. The run history and the
-- lead log are dropped with their tables: `deenroll backup` beforehand keeps
-- leads and campaigns; export the runs first if you need them.
-- Runs with `psql -1 -f` or `deenroll rollback --to 20`.

DROP VIEW IF EXISTS de_enrollment_health;
DROP FUNCTION IF EXISTS de_enrollment_schema_version();
DROP FUNCTION IF EXISTS de_enrollment_close_abandoned_runs();
DROP FUNCTION IF EXISTS de_enrollment_abandoned_runs();
DROP FUNCTION IF EXISTS de_enrollment_run_lock_key(uuid);
DROP FUNCTION IF EXISTS process_de_enrollment_batch(uuid, uuid[], uuid[]);
DROP FUNCTION IF EXISTS de_enrollment_add_counts(jsonb, jsonb);
DROP FUNCTION IF EXISTS de_enrollment_apply(uuid, uuid[]);
DROP FUNCTION IF EXISTS get_leads_for_de_enrollment(uuid, integer, uuid, uuid, integer, uuid);
DROP FUNCTION IF EXISTS de_enrollment_stuck_leads(interval);
DROP VIEW IF EXISTS de_enrollment_eligible_leads;
DROP FUNCTION IF EXISTS de_enrollment_outcome(boolean, boolean);
DROP FUNCTION IF EXISTS de_enrollment_is_eligible(boolean, timestamptz, integer, integer);
DROP FUNCTION IF EXISTS de_enrollment_sequence_length(jsonb);
DROP INDEX IF EXISTS leads_de_enrollment_pending_idx;
DROP TABLE IF EXISTS de_enrollment_lead_log;
DROP TABLE IF EXISTS de_enrollment_runs;

DO $$ BEGIN RAISE NOTICE 'rolled back 0021 (de-enrollment monitoring)'; END $$;
