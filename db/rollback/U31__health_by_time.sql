-- Rollback of 0031: the health view counts each client's last day with a
-- probe per client again (0021's definition). Nothing is lost: 0031 changed
-- the view only.

CREATE OR REPLACE VIEW de_enrollment_health AS
SELECT cl.id   AS client_id,
       cl.name AS client_name,
       cl.created_at AS client_created_at,
       coalesce(d.total_runs_24h, 0)      AS total_runs_24h,
       coalesce(d.successful_runs_24h, 0) AS successful_runs_24h,
       coalesce(d.partial_runs_24h, 0)    AS partial_runs_24h,
       coalesce(d.failed_runs_24h, 0)     AS failed_runs_24h,
       coalesce(d.leads_de_enrolled_24h, 0) AS leads_de_enrolled_24h,
       d.avg_duration_ms,
       d.max_peak_memory_mb,
       lr.last_run_at,
       ls.last_success,
       round((extract(epoch FROM now() - ls.last_success) / 3600)::numeric, 2) AS hours_since_success
FROM clients AS cl
LEFT JOIN LATERAL (
  SELECT count(*)                                       AS total_runs_24h,
         count(*) FILTER (WHERE r.status = 'success')   AS successful_runs_24h,
         count(*) FILTER (WHERE r.status = 'partial')   AS partial_runs_24h,
         count(*) FILTER (WHERE r.status = 'failed')    AS failed_runs_24h,
         sum(r.leads_de_enrolled)                       AS leads_de_enrolled_24h,
         round(avg(r.duration_ms))::integer             AS avg_duration_ms,
         max(r.peak_memory_mb)                          AS max_peak_memory_mb
  FROM de_enrollment_runs AS r
  WHERE r.client_id = cl.id AND r.run_at > now() - interval '24 hours'
) AS d ON true
LEFT JOIN LATERAL (
  SELECT max(r.run_at) AS last_run_at FROM de_enrollment_runs AS r WHERE r.client_id = cl.id
) AS lr ON true
LEFT JOIN LATERAL (
  SELECT max(r.run_at) AS last_success
  FROM de_enrollment_runs AS r
  WHERE r.client_id = cl.id AND r.status = 'success'
) AS ls ON true
WHERE cl.is_active;

CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 30 $$;

DO $$ BEGIN RAISE NOTICE 'rolled back 0031 (health by time)'; END $$;
