-- 0022 the archive of old runs, for `deenroll cleanup`: runs older than the
-- retention period move here whole (every column), so cleanup loses nothing.
CREATE TABLE IF NOT EXISTS de_enrollment_runs_archive
  (LIKE de_enrollment_runs INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE de_enrollment_runs_archive
  ADD COLUMN IF NOT EXISTS archived_at timestamptz NOT NULL DEFAULT now();
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'de_enrollment_runs_archive_pkey') THEN
    ALTER TABLE de_enrollment_runs_archive ADD CONSTRAINT de_enrollment_runs_archive_pkey PRIMARY KEY (id);
  END IF;
END $$;
CREATE INDEX IF NOT EXISTS de_enrollment_runs_archive_run_at_idx ON de_enrollment_runs_archive (run_at);

COMMENT ON TABLE de_enrollment_runs_archive IS
  'de_enrollment_runs rows older than the retention period, moved by `deenroll cleanup`.';

CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 22 $$;
