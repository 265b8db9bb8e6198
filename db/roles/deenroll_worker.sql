-- The least-privileged role for `deenroll run` and `deenroll health-check`.
--
-- Run once, after `deenroll migrate`, as a role allowed to create roles (a DBA):
--   psql -v ON_ERROR_STOP=1 -1 -f db/roles/deenroll_worker.sql
--   psql -c "ALTER ROLE deenroll_worker PASSWORD '...'"      (or \password deenroll_worker)
-- then give the job DATABASE_URL=postgres://deenroll_worker:...@host/db?sslmode=require.
-- Migrations, backup/restore, rollback, reconcile-stats and cleanup stay with
-- the owner of the tables (they change schema or rewrite counters wholesale).
-- Idempotent: re-running it after a new migration grants what that migration added.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'deenroll_worker') THEN
    CREATE ROLE deenroll_worker LOGIN;
  END IF;
END $$;

GRANT USAGE ON SCHEMA public TO deenroll_worker;

-- host tables: read, lock, and change only what a de-enrollment changes
GRANT SELECT ON clients TO deenroll_worker;
GRANT SELECT ON campaigns, leads TO deenroll_worker;
GRANT UPDATE (is_active, completed_at, updated_at, campaign_history) ON leads TO deenroll_worker;
GRANT UPDATE (active_leads_count, completed_leads_count) ON campaigns TO deenroll_worker;

-- the tool's own tables: write runs and the lead log, never delete
GRANT SELECT, INSERT, UPDATE ON de_enrollment_runs TO deenroll_worker;
GRANT SELECT, INSERT ON de_enrollment_lead_log TO deenroll_worker;
GRANT USAGE ON SEQUENCE de_enrollment_lead_log_id_seq TO deenroll_worker;
GRANT SELECT ON de_enrollment_health, de_enrollment_eligible_leads TO deenroll_worker;
-- alert de-duplication state (0023)
GRANT SELECT, INSERT, UPDATE ON de_enrollment_alert_state TO deenroll_worker;
-- invocations, their heartbeats, and pause / resume (0027)
GRANT SELECT, INSERT, UPDATE ON de_enrollment_invocations, de_enrollment_heartbeats TO deenroll_worker;
GRANT SELECT, INSERT, UPDATE ON de_enrollment_pauses TO deenroll_worker;
GRANT USAGE ON SEQUENCE de_enrollment_pauses_id_seq TO deenroll_worker;
GRANT SELECT ON de_enrollment_live_invocations TO deenroll_worker;

-- the tool's functions (SECURITY INVOKER: they run with the grants above)
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA public TO deenroll_worker;

-- Session defaults for the role, which also hold behind a transaction pooler
-- (PgBouncer passes no startup options on): deenroll enforces its statement
-- timeout itself and switches JIT off in its batch transactions, and these
-- cover every other statement of the role.
ALTER ROLE deenroll_worker SET application_name = 'deenroll';
ALTER ROLE deenroll_worker SET statement_timeout = '300s';
ALTER ROLE deenroll_worker SET jit = off;
