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

-- No CREATE on the schema: the worker must not create tables (a fake backup,
-- say) or functions. PostgreSQL 15 and later give PUBLIC no CREATE on the
-- public schema; 14 and earlier (and databases upgraded from them) do, so this
-- applies PostgreSQL's own secure-schema pattern, the default since 15. NOTE:
-- it is database-wide: a role that created objects in public only through
-- PUBLIC's grant needs its own `GRANT CREATE ON SCHEMA public TO <role>`
-- (the owner of the tables, who runs `deenroll migrate`, owns them and keeps it).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM deenroll_worker;
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

-- EXECUTE on deenroll's routines, by name (every overload), and on nothing else:
-- `ON ALL ROUTINES` would re-open the host's functions revoked from PUBLIC, and
-- a grant an earlier version of this script made that way is taken back here.
-- The names are db/routines/*.sql (WorkerRoleTest keeps the two equal). They
-- are SECURITY INVOKER: they run with the grants above.
DO $$
DECLARE
  deenroll_routines CONSTANT text[] := ARRAY[
    'de_enrollment_abandoned_runs', 'de_enrollment_add_counts', 'de_enrollment_apply',
    'de_enrollment_apply_runs', 'de_enrollment_begin_invocation', 'de_enrollment_campaign_counters',
    'de_enrollment_client_taken', 'de_enrollment_clients_to_run', 'de_enrollment_close_abandoned_invocations',
    'de_enrollment_current_pause', 'de_enrollment_fail_in_flight', 'de_enrollment_finish_invocation',
    'de_enrollment_finish_run', 'de_enrollment_finish_runs', 'de_enrollment_heartbeat',
    'de_enrollment_invocation_position', 'de_enrollment_invocation_progress', 'de_enrollment_invocation_runs',
    'de_enrollment_is_eligible', 'de_enrollment_lead_log_of', 'de_enrollment_lease_expired',
    'de_enrollment_lock_invocation', 'de_enrollment_outcome', 'de_enrollment_pause', 'de_enrollment_resume',
    'de_enrollment_retryable', 'de_enrollment_run_invocation', 'de_enrollment_schema_version',
    'de_enrollment_sequence_length', 'de_enrollment_start_run', 'de_enrollment_stuck_leads',
    'get_leads_for_de_enrollment', 'process_de_enrollment_batch'];
  r record;
BEGIN
  FOR r IN SELECT p.oid::regprocedure AS routine, p.proname = ANY (deenroll_routines) AS ours
           FROM pg_proc AS p
           WHERE p.pronamespace = 'public'::regnamespace AND p.prokind IN ('f', 'p')
  LOOP
    IF r.ours THEN
      EXECUTE format('GRANT EXECUTE ON ROUTINE %s TO deenroll_worker', r.routine);
    ELSE
      EXECUTE format('REVOKE EXECUTE ON ROUTINE %s FROM deenroll_worker', r.routine);
    END IF;
  END LOOP;
END $$;

-- Session defaults for the role, which also hold behind a transaction pooler
-- (PgBouncer passes no startup options on): deenroll enforces its statement
-- timeout itself and switches JIT off in its batch transactions, and these
-- cover every other statement of the role.
ALTER ROLE deenroll_worker SET application_name = 'deenroll';
ALTER ROLE deenroll_worker SET statement_timeout = '300s';
ALTER ROLE deenroll_worker SET jit = off;
