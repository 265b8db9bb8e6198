-- Rollback of 0023: drops the alert de-duplication state. The next alerts are
-- sent as if their conditions were new.
DROP TABLE IF EXISTS de_enrollment_alert_state;
CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 22 $$;
DO $$ BEGIN RAISE NOTICE 'rolled back 0023 (alert state)'; END $$;
