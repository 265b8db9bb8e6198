-- 0029 restore marks: which de-enrollments `deenroll restore` put back.
--
-- A restore reverts a de-enrollment, and the next run after `deenroll resume`
-- may de-enroll the lead again, rightly: the lead log then holds two
-- 'de_enrolled' rows for it, and only the first was undone. restored_at says
-- so, and verify counts a lead as de-enrolled twice only by rows that stand.
-- A nullable column without a default: no rewrite, a short lock on the lead log.

ALTER TABLE de_enrollment_lead_log ADD COLUMN IF NOT EXISTS restored_at timestamptz;

COMMENT ON COLUMN de_enrollment_lead_log.restored_at IS
  'When `deenroll restore` put this de-enrollment back from a backup (NULL: it stands).';

CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 29 $$;
