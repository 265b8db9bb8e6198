-- 0021 monitoring and the de-enrollment functions.
--
-- The rules of DESIGN §3 live here, once:
--   de_enrollment_sequence_length()  a campaign's sequence length, NULL when malformed
--   de_enrollment_is_eligible()      the eligibility predicate
--   de_enrollment_outcome()          booked > opted_out > completed
-- and every query of the tool (engine, dry run, health, stuck leads) calls them.
-- They are plain SQL expressions, which PostgreSQL inlines, so the planner still
-- sees `is_active AND completed_at IS NULL` and can use the partial index below.
--
-- Runs on PostgreSQL 12+ (no gen_random_uuid: run ids come from the caller).
-- Idempotent: CREATE ... IF NOT EXISTS / CREATE OR REPLACE throughout.

CREATE TABLE IF NOT EXISTS de_enrollment_runs (
  id                uuid        PRIMARY KEY,
  invocation_id     uuid        NOT NULL,
  client_id         uuid        NOT NULL,
  run_at            timestamptz NOT NULL DEFAULT now(),
  run_type          text        NOT NULL
                    CHECK (run_type IN ('scheduled', 'manual', 'retry', 'migration')),
  status            text        NOT NULL DEFAULT 'running'
                    CHECK (status IN ('running', 'success', 'partial', 'failed')),
  leads_evaluated   integer     NOT NULL DEFAULT 0,
  leads_de_enrolled integer     NOT NULL DEFAULT 0,
  leads_skipped     integer     NOT NULL DEFAULT 0,
  leads_failed      integer     NOT NULL DEFAULT 0,
  batches           integer     NOT NULL DEFAULT 0,
  by_outcome        jsonb       NOT NULL DEFAULT '{}'::jsonb,
  duration_ms       integer,
  error_details     text,
  finished_at       timestamptz,
  heartbeat_at      timestamptz NOT NULL DEFAULT now(),
  budget_ms         integer     NOT NULL,
  peak_memory_mb    integer,
  host              text,
  pid               integer
);
-- No foreign key to clients: run history must never stop the host application
-- from deleting a client.
CREATE INDEX IF NOT EXISTS de_enrollment_runs_run_at_idx ON de_enrollment_runs (run_at);
CREATE INDEX IF NOT EXISTS de_enrollment_runs_client_idx ON de_enrollment_runs (client_id, run_at);
CREATE INDEX IF NOT EXISTS de_enrollment_runs_success_idx
  ON de_enrollment_runs (client_id, run_at) WHERE status = 'success';
CREATE INDEX IF NOT EXISTS de_enrollment_runs_running_idx
  ON de_enrollment_runs (heartbeat_at) WHERE status = 'running';
CREATE INDEX IF NOT EXISTS de_enrollment_runs_invocation_idx ON de_enrollment_runs (invocation_id);

COMMENT ON TABLE de_enrollment_runs IS
  'One row per client per invocation of deenroll; invocation_id groups the rows of one invocation.';
COMMENT ON COLUMN de_enrollment_runs.heartbeat_at IS
  'Moved by every batch. A running row is abandoned when its process no longer holds de_enrollment_run_lock_key(id), or its heartbeat is older than max(10 min, 2 x budget_ms).';

CREATE TABLE IF NOT EXISTS de_enrollment_lead_log (
  id                bigserial   PRIMARY KEY,
  run_id            uuid        NOT NULL,
  lead_id           uuid        NOT NULL,
  client_id         uuid        NOT NULL,
  campaign_id       uuid,
  action            text        NOT NULL CHECK (action IN ('de_enrolled', 'skipped', 'error')),
  outcome           text        CHECK (outcome IN ('completed', 'booked', 'opted_out')),
  messages_received integer,
  error_message     text,
  processed_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS de_enrollment_lead_log_run_idx ON de_enrollment_lead_log (run_id, lead_id);
CREATE INDEX IF NOT EXISTS de_enrollment_lead_log_lead_idx ON de_enrollment_lead_log (lead_id);
CREATE INDEX IF NOT EXISTS de_enrollment_lead_log_processed_idx ON de_enrollment_lead_log (processed_at);

-- Leads still in a sequence, by campaign and position: "leads of campaign C at
-- position >= len(C)" is a short range scan, so a pass with little to do costs
-- little however many leads exist. A lead leaves the index when de-enrolled.
-- The id makes (position, id) a total order, so each batch of a run resumes
-- exactly after the previous one instead of re-reading the index entries of
-- leads it already de-enrolled (they stay until VACUUM).
CREATE INDEX IF NOT EXISTS leads_de_enrollment_pending_idx
  ON leads (campaign_link_id, current_message_position, id)
  WHERE is_active AND completed_at IS NULL;

-- ---------------------------------------------------------------- the rules

CREATE OR REPLACE FUNCTION de_enrollment_sequence_length(p_messages jsonb)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
-- CASE, not AND: jsonb_array_length raises on a non-array, and AND does not
-- promise left-to-right evaluation. An empty array is no sequence either.
AS $$ SELECT CASE WHEN jsonb_typeof(p_messages) = 'array'
                  THEN nullif(jsonb_array_length(p_messages), 0) END $$;

CREATE OR REPLACE FUNCTION de_enrollment_is_eligible(p_is_active boolean,
                                                     p_completed_at timestamptz,
                                                     p_position integer,
                                                     p_sequence_length integer)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
-- A NULL sequence length (malformed campaign) makes the comparison NULL: not eligible.
AS $$ SELECT p_is_active AND p_completed_at IS NULL AND p_position >= p_sequence_length $$;

CREATE OR REPLACE FUNCTION de_enrollment_outcome(p_booked boolean, p_opted_out boolean)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN p_booked THEN 'booked'
                  WHEN p_opted_out THEN 'opted_out'
                  ELSE 'completed' END $$;

-- Every eligible lead, with the client that owns its campaign (runs are per
-- client of the campaign). Campaign by campaign through the partial index; the
-- OFFSET 0 keeps the planner from flattening it into a join that seq-scans leads.
CREATE OR REPLACE VIEW de_enrollment_eligible_leads AS
SELECT e.id                       AS lead_id,
       c.client_id                AS client_id,
       c.id                       AS campaign_id,
       c.name                     AS campaign_name,
       e.current_message_position AS messages_received,
       de_enrollment_outcome(e.booked, e.opted_out) AS outcome,
       coalesce(e.last_message_at, e.updated_at)    AS last_activity_at
FROM campaigns AS c
CROSS JOIN LATERAL (
  SELECT l.id, l.current_message_position, l.booked, l.opted_out, l.last_message_at, l.updated_at
  FROM leads AS l
  WHERE l.campaign_link_id = c.id
    AND de_enrollment_is_eligible(l.is_active, l.completed_at, l.current_message_position,
                                  de_enrollment_sequence_length(c.messages))
  OFFSET 0
) AS e
WHERE de_enrollment_sequence_length(c.messages) IS NOT NULL;

-- Stuck: eligible, and nothing happened to it for longer than the grace period.
-- Leads of inactive clients are left out: scheduled runs skip those clients on
-- purpose, so their leads waiting is not a fault to alert on.
CREATE OR REPLACE FUNCTION de_enrollment_stuck_leads(p_grace interval DEFAULT interval '30 minutes')
RETURNS SETOF de_enrollment_eligible_leads
LANGUAGE sql STABLE
AS $$
  SELECT e.*
  FROM de_enrollment_eligible_leads AS e
  JOIN clients AS cl ON cl.id = e.client_id AND cl.is_active
  WHERE e.last_activity_at < now() - p_grace
$$;

-- ---------------------------------------------------------------- the engine

-- Locks up to p_batch_size eligible leads of one client, skipping leads another
-- runner holds, and leads that already failed in this run (p_run_id), so a bad
-- row is tried once per run, not forever. The row lock re-checks eligibility on
-- the newest row version, so a lead de-enrolled meanwhile is not returned.
-- Campaigns are walked in id order and their leads in (position, id) order; a
-- run passes the last (campaign, position, lead) of its previous batch as
-- p_after_* to resume right after it. Without them the walk starts at the top.
CREATE OR REPLACE FUNCTION get_leads_for_de_enrollment(p_client_id uuid,
                                                       p_batch_size integer,
                                                       p_run_id uuid DEFAULT NULL,
                                                       p_after_campaign uuid DEFAULT NULL,
                                                       p_after_position integer DEFAULT NULL,
                                                       p_after_lead uuid DEFAULT NULL)
RETURNS TABLE (lead_id uuid, campaign_id uuid, message_position integer)
LANGUAGE sql VOLATILE
AS $$
  SELECT e.id, c.id, e.current_message_position
  FROM (SELECT id, de_enrollment_sequence_length(messages) AS sequence_length
        FROM campaigns
        WHERE client_id = p_client_id
          AND de_enrollment_sequence_length(messages) IS NOT NULL
          AND (p_after_campaign IS NULL OR id >= p_after_campaign)
        ORDER BY id) AS c
  CROSS JOIN LATERAL (
    SELECT l.id, l.current_message_position
    FROM leads AS l
    WHERE l.campaign_link_id = c.id
      AND de_enrollment_is_eligible(l.is_active, l.completed_at, l.current_message_position,
                                    c.sequence_length)
      -- in the campaign the previous batch ended in, only what comes after its last lead
      -- (elsewhere from the start: an eligible lead has a position of at least 1)
      AND (l.current_message_position, l.id) > (
            CASE WHEN c.id = p_after_campaign THEN p_after_position ELSE 0 END,
            CASE WHEN c.id = p_after_campaign THEN p_after_lead
                 ELSE '00000000-0000-0000-0000-000000000000'::uuid END)
      AND NOT EXISTS (SELECT 1 FROM de_enrollment_lead_log AS g
                      WHERE g.run_id = p_run_id AND g.lead_id = l.id AND g.action = 'error')
    ORDER BY l.current_message_position, l.id
    LIMIT p_batch_size
    FOR UPDATE OF l SKIP LOCKED
  ) AS e
  LIMIT p_batch_size
$$;

-- De-enrolls the given leads that are (still) eligible, as one set-based
-- statement: lead update with history entry, one lead-log row each, and the
-- campaign counters moved by exactly the rows the UPDATE returned. Returns the
-- count per outcome. Raises on any error; process_de_enrollment_batch isolates them.
-- PL/pgSQL so that the statement's plan is prepared once per session, not per batch.
CREATE OR REPLACE FUNCTION de_enrollment_apply(p_run_id uuid, p_lead_ids uuid[])
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $fn$
DECLARE
  v_by_outcome jsonb;
BEGIN
  WITH upd AS (
    UPDATE leads AS l
    SET is_active        = false,
        completed_at     = now(),
        updated_at       = now(),
        -- existing entries are kept whatever their shape; NULL starts a new array
        campaign_history = coalesce(l.campaign_history, '[]'::jsonb) || jsonb_build_array(jsonb_build_object(
          'campaignId',       c.id,
          'campaignName',     c.name,
          'enrolledAt',       coalesce(l.enrolled_at, l.created_at),
          'completedAt',      now(),
          'messagesReceived', l.current_message_position,
          'outcome',          de_enrollment_outcome(l.booked, l.opted_out)))
    FROM campaigns AS c
    WHERE l.id = ANY (p_lead_ids)
      AND c.id = l.campaign_link_id
      AND de_enrollment_is_eligible(l.is_active, l.completed_at, l.current_message_position,
                                    de_enrollment_sequence_length(c.messages))
    RETURNING l.id, l.client_id, l.campaign_link_id, l.opted_out,
              l.current_message_position AS messages_received,
              de_enrollment_outcome(l.booked, l.opted_out) AS outcome
  ),
  lead_log AS (
    INSERT INTO de_enrollment_lead_log
           (run_id, lead_id, client_id, campaign_id, action, outcome, messages_received)
    SELECT p_run_id, u.id, u.client_id, u.campaign_link_id, 'de_enrolled', u.outcome, u.messages_received
    FROM upd AS u
  ),
  counters AS (
    -- a de-enrolled lead stops being active; it counted as active unless opted out
    UPDATE campaigns AS c
    SET active_leads_count    = c.active_leads_count - s.was_active,
        completed_leads_count = c.completed_leads_count + s.n
    FROM (SELECT campaign_link_id,
                 count(*)                              AS n,
                 count(*) FILTER (WHERE NOT opted_out) AS was_active
          FROM upd
          GROUP BY campaign_link_id) AS s
    WHERE c.id = s.campaign_link_id
  )
  SELECT coalesce(jsonb_object_agg(o.outcome, o.n), '{}'::jsonb)
  INTO v_by_outcome
  FROM (SELECT outcome, count(*) AS n FROM upd GROUP BY outcome) AS o;
  RETURN v_by_outcome;
END
$fn$;

-- Adds two {outcome: count} objects.
CREATE OR REPLACE FUNCTION de_enrollment_add_counts(p_a jsonb, p_b jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE
AS $$
  SELECT coalesce(jsonb_object_agg(k, total), '{}'::jsonb)
  FROM (SELECT k, sum(v::integer) AS total
        FROM (SELECT * FROM jsonb_each_text(coalesce(p_a, '{}'::jsonb))
              UNION ALL
              SELECT * FROM jsonb_each_text(coalesce(p_b, '{}'::jsonb))) AS kv(k, v)
        GROUP BY k) AS t
$$;

-- One batch of a run, inside the caller's transaction: de-enrolls p_lead_ids,
-- isolates leads that make the statement fail (each gets an 'error' log row,
-- the others are still de-enrolled), and adds the batch to the run row, so the
-- run's counts are exactly as durable as the batch.
-- Transient errors (serialization, deadlock, cancel/timeout, lock timeout,
-- shutdown) are re-raised for the caller to retry the whole batch.
CREATE OR REPLACE FUNCTION process_de_enrollment_batch(p_run_id uuid, p_lead_ids uuid[],
                                                       p_campaign_ids uuid[] DEFAULT NULL)
RETURNS TABLE (leads_evaluated integer,
               leads_de_enrolled integer,
               leads_skipped integer,
               leads_failed integer,
               by_outcome jsonb)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  v_lead_id uuid;
BEGIN
  leads_evaluated := coalesce(cardinality(p_lead_ids), 0);
  leads_failed := 0;
  by_outcome := '{}'::jsonb;

  IF leads_evaluated > 0 THEN
    -- Campaign rows are locked in id order before their counters move, so two
    -- runners whose batches share campaigns never deadlock on them. The caller
    -- may pass the batch's campaigns (it has them); else they are looked up.
    PERFORM 1 FROM campaigns
    WHERE id = ANY (coalesce(p_campaign_ids,
                             ARRAY(SELECT campaign_link_id FROM leads WHERE id = ANY (p_lead_ids))))
    ORDER BY id
    FOR NO KEY UPDATE;

    BEGIN
      by_outcome := de_enrollment_apply(p_run_id, p_lead_ids);
    EXCEPTION
      WHEN serialization_failure OR deadlock_detected OR query_canceled
           OR lock_not_available OR admin_shutdown THEN
        RAISE;
      WHEN OTHERS THEN
        -- Something in the batch fails (a host trigger, a constraint): retry lead
        -- by lead, each in its own subtransaction, and record the failures.
        FOREACH v_lead_id IN ARRAY p_lead_ids LOOP
          BEGIN
            by_outcome := de_enrollment_add_counts(by_outcome,
                                                   de_enrollment_apply(p_run_id, ARRAY[v_lead_id]));
          EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR query_canceled
                 OR lock_not_available OR admin_shutdown THEN
              RAISE;
            WHEN OTHERS THEN
              INSERT INTO de_enrollment_lead_log
                     (run_id, lead_id, client_id, campaign_id, action, messages_received, error_message)
              SELECT p_run_id, l.id, l.client_id, l.campaign_link_id, 'error',
                     l.current_message_position, left(SQLSTATE || ': ' || SQLERRM, 2000)
              FROM leads AS l
              WHERE l.id = v_lead_id;
              leads_failed := leads_failed + 1;
          END;
        END LOOP;
    END;
  END IF;

  SELECT coalesce(sum(value::integer), 0)::integer INTO leads_de_enrolled
  FROM jsonb_each_text(by_outcome);
  leads_skipped := leads_evaluated - leads_de_enrolled - leads_failed;

  UPDATE de_enrollment_runs AS r
  SET leads_evaluated   = r.leads_evaluated + process_de_enrollment_batch.leads_evaluated,
      leads_de_enrolled = r.leads_de_enrolled + process_de_enrollment_batch.leads_de_enrolled,
      leads_skipped     = r.leads_skipped + process_de_enrollment_batch.leads_skipped,
      leads_failed      = r.leads_failed + process_de_enrollment_batch.leads_failed,
      by_outcome        = de_enrollment_add_counts(r.by_outcome, process_de_enrollment_batch.by_outcome),
      batches           = r.batches + 1,
      heartbeat_at      = clock_timestamp()
  WHERE r.id = p_run_id;
  RETURN NEXT;
END
$$;

-- The advisory-lock key of a run: its process holds it (session level) from
-- before the run row exists until the row is closed, so the lock is free
-- exactly when that process is gone.
CREATE OR REPLACE FUNCTION de_enrollment_run_lock_key(p_run_id uuid)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT hashtextextended('deenroll-run:' || p_run_id::text, 0) $$;

-- Runs whose process died: still 'running' and either their advisory lock is
-- free (the session that held it ended: crash, kill -9, lost connection) or,
-- as a fallback for poolers that break session locks, their heartbeat is older
-- than max(10 minutes, twice the run's own budget). A live run holds its lock
-- and moves its heartbeat every batch, so it is never taken for dead.
-- (Trying the lock takes it until the caller's transaction ends: harmless.)
CREATE OR REPLACE FUNCTION de_enrollment_abandoned_runs()
RETURNS TABLE (run_id uuid)
LANGUAGE sql VOLATILE
AS $$
  SELECT r.id
  FROM de_enrollment_runs AS r
  WHERE r.status = 'running'
    AND (r.heartbeat_at < now() - greatest(interval '10 minutes', 2 * r.budget_ms * interval '1 millisecond')
         OR pg_try_advisory_xact_lock(de_enrollment_run_lock_key(r.id)))
$$;

-- Closes the abandoned runs as failed.
CREATE OR REPLACE FUNCTION de_enrollment_close_abandoned_runs()
RETURNS TABLE (run_id uuid, client_id uuid, run_at timestamptz, heartbeat_at timestamptz)
LANGUAGE sql VOLATILE
AS $$
  UPDATE de_enrollment_runs AS r
  SET status        = 'failed',
      finished_at   = now(),
      duration_ms   = (extract(epoch FROM r.heartbeat_at - r.run_at) * 1000)::integer,
      error_details = 'abandoned: the process stopped without closing the run (last heartbeat '
                      || to_char(r.heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')'
  WHERE r.id IN (SELECT a.run_id FROM de_enrollment_abandoned_runs() AS a)
    AND r.status = 'running'
  RETURNING r.id, r.client_id, r.run_at, r.heartbeat_at
$$;

-- ---------------------------------------------------------------- health

-- Per active client, over the run history (the names the operating procedure's
-- SQL queries keep working).
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

-- The schema version this database offers the tool; `deenroll run` refuses a
-- database below the version it needs and says to run `deenroll migrate`.
CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 21 $$;
