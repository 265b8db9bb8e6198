-- 0034 the engine reads an invocation's report in one statement.
--
-- At its end an invocation reports every client it had, in its order, with
-- what that client's run row says. The engine read the invocation's row (its
-- client and run ids, two uuid arrays), then the run rows with those ids and
-- the clients' names, and matched the three in Java: with 2,000 clients two
-- arrays of 2,000 uuids parsed from text, 2,000 whole run rows (their three
-- timestamps included) mapped to records, and both arrays sent back as
-- parameters; 134 ms of an idle pass over 2,000 clients, 60 ms over 200
-- (timers around each read, on a busy machine).
-- de_enrollment_invocation_runs joins them where they are: one row per client
-- of the invocation, in its order, with only what the report shows; the run's
-- columns are null for a client whose run was not started.
-- Needs PostgreSQL 12+. Idempotent. Rollback: db/rollback/U34__invocation_runs.sql.

CREATE OR REPLACE FUNCTION de_enrollment_invocation_runs(p_invocation_id uuid)
RETURNS TABLE (client_position integer, client_id uuid, client_name text, run_id uuid, status text,
               leads_evaluated integer, leads_de_enrolled integer, leads_skipped integer, leads_failed integer,
               by_outcome jsonb, batches integer, duration_ms integer, error_details text)
LANGUAGE sql STABLE
AS $$
  SELECT u.position::integer, u.client_id, c.name, r.id, r.status,
         r.leads_evaluated, r.leads_de_enrolled, r.leads_skipped, r.leads_failed,
         r.by_outcome, r.batches, r.duration_ms, r.error_details
  FROM de_enrollment_invocations AS i
  CROSS JOIN LATERAL unnest(i.client_ids, i.run_ids) WITH ORDINALITY AS u (client_id, run_id, position)
  LEFT JOIN de_enrollment_runs AS r ON r.id = u.run_id
  LEFT JOIN clients AS c ON c.id = u.client_id
  WHERE i.id = p_invocation_id
  ORDER BY u.position
$$;

CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 34 $$;
