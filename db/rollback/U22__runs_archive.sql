-- Rollback of 0022: drops the archive of old runs (export it first if needed).
DROP TABLE IF EXISTS de_enrollment_runs_archive;
CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 21 $$;
DO $$ BEGIN RAISE NOTICE 'rolled back 0022 (runs archive)'; END $$;
