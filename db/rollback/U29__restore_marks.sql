-- Rollback of 0029: the lead log forgets which de-enrollments a restore put back.
-- After it, verify counts a lead restored and de-enrolled again as de-enrolled twice.

ALTER TABLE de_enrollment_lead_log DROP COLUMN IF EXISTS restored_at;

CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 28 $$;

DO $$ BEGIN RAISE NOTICE 'rolled back 0029 (restore marks)'; END $$;
