-- check-deenroll.sql: runs the floor's checker (floor-check.sql, unchanged) on a
-- database where deenroll did the pass(es).
--
-- floor-check.sql takes "the latest pass" to be the run rows sharing the latest
-- run_at. deenroll writes one run row per client, each with its own run_at, so
-- on its own floor-check would check only the last client's leads (its global
-- checks, remaining eligible and counter drift, would still be whole). On a
-- fresh copy of the bench template de_enrollment_runs is empty before the pass,
-- so every run row belongs to the measured pass(es): a temporary view with the
-- same name (pg_temp comes first in the search path) shows floor-check all of
-- them with one common run_at, the earliest. With several runners started
-- together this covers every runner's rows.
--
--   psql -X -v ON_ERROR_STOP=1 -d DB -f bench/check-deenroll.sql
CREATE TEMP VIEW de_enrollment_runs AS
SELECT r.id, r.client_id,
       (SELECT min(r0.run_at) FROM public.de_enrollment_runs AS r0) AS run_at,
       r.run_type, r.status, r.leads_evaluated, r.leads_de_enrolled, r.leads_skipped,
       r.by_outcome, r.duration_ms, r.error_details
FROM public.de_enrollment_runs AS r;
SELECT count(*) AS runs_total,
       count(*) FILTER (WHERE status <> 'success') AS runs_not_success
FROM public.de_enrollment_runs \gset
\echo check: runs=:runs_total runs_not_success=:runs_not_success
\ir floor-check.sql
