-- gen-history.sql: months of run history on top of gen.sql's clients, for
-- timing health-check, status, report daily|weekly, verify and cleanup at scale.
--
-- Precondition: gen.sql has run (clients, campaigns, leads) and the history
-- tables are empty (de_enrollment_runs, de_enrollment_invocations,
-- de_enrollment_lead_log).
--
--   psql -v ON_ERROR_STOP=1 -d DB -v days=90 -f bench/gen-history.sql
--
-- Variables:
--   days          days of history, ending at the last whole slot before now() (default 90)
--   every_min     minutes between invocations (default 15: the cron schedule; 96 a day)
--   failed_per    runs per 100,000 that failed (default 100: 0.1 %)
--   partial_per   runs per 100,000 that stopped at the budget, partial (default 500)
--   work_per      runs per 100,000 that de-enrolled leads, 1..3 each, one lead-log
--                 row per lead (default 5000: 5 %)
--   bad_clients   every bad_clients-th client has one lead a host trigger rejects:
--                 it fails (leads_failed 1, an 'error' lead-log row) in every
--                 work_per run of that client (default 50: 40 of 2,000 clients)
--
-- One invocation per slot over every active client in clients' id order, one
-- run row per client per invocation (run_at 2 ms apart, as an idle pass writes
-- them), linked through invocation_id and the invocation's client_ids/run_ids.
-- Statuses and counts come from hashes of (slot, client), so the same
-- variables and the same now() slot give the same data. 2,000 clients x 90
-- days = 8,640 invocations, 17.28M runs: about 10 min and 7 GB on the bench
-- machine. The de-enrolled lead ids are synthetic (md5), not leads of the
-- table: only the log's size matters for the reports.

\set ON_ERROR_STOP on
\if :{?days}        \else \set days 90          \endif
\if :{?every_min}   \else \set every_min 15     \endif
\if :{?failed_per}  \else \set failed_per 100   \endif
\if :{?partial_per} \else \set partial_per 500  \endif
\if :{?work_per}    \else \set work_per 5000    \endif
\if :{?bad_clients} \else \set bad_clients 50   \endif

\echo gen-history.sql: days=:days every_min=:every_min failed_per=:failed_per partial_per=:partial_per work_per=:work_per bad_clients=:bad_clients

SELECT (NOT EXISTS (SELECT 1 FROM de_enrollment_runs)
    AND NOT EXISTS (SELECT 1 FROM de_enrollment_invocations)
    AND NOT EXISTS (SELECT 1 FROM de_enrollment_lead_log)) AS history_empty \gset
\if :history_empty
\else
  \echo 'gen-history.sql: de_enrollment_runs/_invocations/_lead_log must be empty; refusing to add data'
  SELECT 1/0 AS history_not_empty;
\endif

SET work_mem = '256MB';
SET maintenance_work_mem = '1GB';
SET synchronous_commit = off;

-- the slots, newest last, ending at the last whole slot before now()
CREATE TEMP TABLE gh_slot AS
SELECT s AS slot,
       to_timestamp(floor(extract(epoch FROM now()) / (:every_min * 60)) * (:every_min * 60))
         - (:days * 1440 / :every_min - s) * make_interval(mins => :every_min) AS at
FROM generate_series(1, :days * 1440 / :every_min) AS s;

CREATE TEMP TABLE gh_client AS
SELECT id, row_number() OVER (ORDER BY id) AS k FROM clients WHERE is_active;

-- a bad client's rejected lead: its first lead at the end of a sequence
CREATE TEMP TABLE gh_bad AS
SELECT DISTINCT ON (c.id) c.id AS client_id, l.id AS lead_id, l.campaign_link_id AS campaign_id
FROM gh_client AS c
JOIN leads AS l ON l.client_id = c.id AND l.campaign_link_id IS NOT NULL AND l.completed_at IS NULL
WHERE c.k % :bad_clients = 0
ORDER BY c.id, l.id;

-- de_enrollment_runs' indexes are built after the load, from their own
-- definitions (17M inserts into a random-uuid primary key take far longer)
CREATE TEMP TABLE gh_index AS
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def,
       c.conname AS constraint_name
FROM pg_index AS i LEFT JOIN pg_constraint AS c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
WHERE i.indrelid = 'de_enrollment_runs'::regclass;
SELECT CASE WHEN constraint_name IS NULL THEN format('DROP INDEX %s', name)
            ELSE format('ALTER TABLE de_enrollment_runs DROP CONSTRAINT %I', constraint_name) END
FROM gh_index \gexec

-- the runs and their fate, from a hash h in 0..99999 of (slot, client):
-- failed below failed_per; partial from there for partial_per; the partial
-- ones and the next successes, work_per in all, de-enrolled 1..3 leads (and
-- the bad client's lead failed)
INSERT INTO de_enrollment_runs (id, invocation_id, client_id, run_at, run_type, status, leads_evaluated,
                                leads_de_enrolled, leads_skipped, leads_failed, batches, by_outcome,
                                duration_ms, error_details, finished_at, heartbeat_at, budget_ms,
                                peak_memory_mb, host, pid)
SELECT r.id, r.invocation_id, r.client_id, r.run_at, 'scheduled', f.status, f.de_enrolled + f.failed,
       f.de_enrolled, 0, f.failed,
       CASE WHEN f.de_enrolled + f.failed > 0 THEN 1 ELSE 0 END,
       CASE WHEN f.de_enrolled > 0 THEN jsonb_build_object('completed', f.de_enrolled) ELSE '{}'::jsonb END,
       f.ms,
       CASE WHEN f.status = 'failed' THEN 'ERROR: canceling statement due to statement timeout (SQLSTATE 57014)' END,
       r.run_at + f.ms * interval '1 millisecond', r.run_at + f.ms * interval '1 millisecond',
       240000, 180 + r.h % 40, 'bench-host', 10000 + r.slot % 30000
FROM (SELECT md5('run:' || s.slot || ':' || c.k)::uuid     AS id,
             md5('inv:' || s.slot)::uuid                   AS invocation_id,
             c.id                                          AS client_id,
             s.slot,
             s.at + c.k * interval '2 milliseconds'        AS run_at,
             h.h,
             h.h >= :failed_per AND h.h < :failed_per + :partial_per + :work_per AS work,
             b.lead_id AS bad_lead
      FROM gh_slot AS s
      CROSS JOIN gh_client AS c
      LEFT JOIN gh_bad AS b ON b.client_id = c.id
      CROSS JOIN LATERAL (SELECT abs(hashint8(s.slot::bigint * 1000003 + c.k)) % 100000 AS h) AS h) AS r
CROSS JOIN LATERAL (
  SELECT CASE WHEN r.h < :failed_per THEN 'failed'
              WHEN r.h < :failed_per + :partial_per THEN 'partial'
              ELSE 'success' END AS status,
         CASE WHEN r.work THEN 1 + r.h % 3 ELSE 0 END AS de_enrolled,
         CASE WHEN r.work AND r.bad_lead IS NOT NULL THEN 1 ELSE 0 END AS failed,
         CASE WHEN r.work THEN 20 + r.h % 200 ELSE 1 + r.h % 3 END AS ms) AS f
-- in time order, as runs append them: the heap follows run_at
ORDER BY r.run_at;

SELECT CASE WHEN constraint_name IS NULL THEN def
            ELSE def || format('; ALTER TABLE de_enrollment_runs ADD CONSTRAINT %I PRIMARY KEY USING INDEX %I',
                               constraint_name, constraint_name) END
FROM gh_index \gexec

-- one finished invocation per slot, its clients and runs in order
INSERT INTO de_enrollment_invocations (id, host, pid, run_type, batch_size, budget_ms, lease_ms, ignore_pause,
                                       started_at, finished_at, status, stop_reason, client_ids, run_ids, position)
SELECT invocation_id, 'bench-host', min(pid), 'scheduled', 100, 240000, 90000, false,
       min(run_at) - interval '5 milliseconds', max(finished_at), 'finished', 'done',
       array_agg(client_id ORDER BY run_at), array_agg(id ORDER BY run_at), count(*) + 1
FROM de_enrollment_runs
GROUP BY invocation_id;

-- the lead log: one de_enrolled row per lead a run de-enrolled, one error row per failed lead
INSERT INTO de_enrollment_lead_log (run_id, lead_id, client_id, campaign_id, action, outcome,
                                    messages_received, error_message, processed_at)
SELECT u.id, md5('lead:' || u.id || ':' || n)::uuid, u.client_id, NULL, 'de_enrolled', 'completed', 5, NULL,
       u.run_at + interval '10 milliseconds'
FROM de_enrollment_runs AS u, generate_series(1, u.leads_de_enrolled) AS n
WHERE u.leads_de_enrolled > 0
UNION ALL
SELECT u.id, b.lead_id, u.client_id, b.campaign_id, 'error', NULL, NULL,
       'ERROR: rejected by trigger leads_guard (SQLSTATE P0001)', u.run_at + interval '5 milliseconds'
FROM de_enrollment_runs AS u JOIN gh_bad AS b ON b.client_id = u.client_id
WHERE u.leads_failed > 0
ORDER BY 9;

-- as autovacuum leaves them in a steady state: statistics, and the visibility map set
VACUUM (ANALYZE) de_enrollment_runs;
VACUUM (ANALYZE) de_enrollment_invocations;
VACUUM (ANALYZE) de_enrollment_lead_log;

SELECT 'runs=' || (SELECT count(*) FROM de_enrollment_runs)
    || ' invocations=' || (SELECT count(*) FROM de_enrollment_invocations)
    || ' lead_log=' || (SELECT count(*) FROM de_enrollment_lead_log)
    || ' db=' || pg_size_pretty(pg_database_size(current_database())) AS gen_history;
