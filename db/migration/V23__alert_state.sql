-- 0023 alert de-duplication: one row per alerting condition (a failing client,
-- the health check's verdict). An alert is sent when its condition is new, has
-- been resolved since, got more severe, or was last sent longer ago than the
-- repeat interval; a "resolved" message goes out when the condition clears.
-- Several deenroll processes share this table, so every decision is one
-- INSERT ... ON CONFLICT statement.
--
-- Runs on PostgreSQL 12+; idempotent.

CREATE TABLE IF NOT EXISTS de_enrollment_alert_state (
  condition_key text        PRIMARY KEY,
  severity      text        NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  message       text        NOT NULL,
  first_seen    timestamptz NOT NULL,
  last_sent     timestamptz,
  resolved_at   timestamptz
);

COMMENT ON TABLE de_enrollment_alert_state IS
  'Alerting conditions of deenroll, for de-duplication: repeated at most every repeat interval, "resolved" sent when cleared.';
COMMENT ON COLUMN de_enrollment_alert_state.last_sent IS
  'When the alert was last delivered; NULL when the last delivery failed, so the next invocation tries again.';
COMMENT ON COLUMN de_enrollment_alert_state.resolved_at IS
  'NULL while the condition holds.';

CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 23 $$;
