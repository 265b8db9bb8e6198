-- Rollback of 0034: an older build reads its report from the invocation's row,
-- the run rows and the clients itself. Nothing is lost: 0034 added one
-- function that reads only.

DROP FUNCTION IF EXISTS de_enrollment_invocation_runs(uuid);

CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 33 $$;

DO $$ BEGIN RAISE NOTICE 'rolled back 0034 (the invocation''s report in one statement)'; END $$;
