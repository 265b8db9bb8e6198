-- 0024 a run's batches loop inside PostgreSQL.
--
-- Until 0023 the tool sent every batch from the JVM: one round trip, one commit
-- handshake and the client's own per-batch work, about 3.5 ms a batch on top of
-- the batch itself, and several more per client for its run row
-- (docs/performance.md). de_enrollment_run_clients runs the clients' runs of an
-- invocation, batch after batch, for up to a time slice, committing after each
-- batch exactly as before, so a batch is still one transaction and a crash
-- still loses at most the batch in flight. The batch itself is unchanged:
-- get_leads_for_de_enrollment then process_de_enrollment_batch.
--
-- Also:
--   * get_leads_for_de_enrollment and de_enrollment_add_counts in PL/pgSQL, so
--     their plans are kept for the session instead of made again every batch;
--   * one advisory lock per invocation instead of one per run: abandoned runs
--     are those whose invocation's lock and own lock are both free (the own
--     lock keeps runs of a 0023 tool, which locked per run, alive);
--   * a batch refuses to count for a run that is no longer 'running' (closed as
--     abandoned by another process while this one was cut off), and rolls back;
--   * de_enrollment_start_run and de_enrollment_finish_run: one definition each
--     of starting and of closing a run;
--   * the lead log's (run_id, lead_id) index only over error rows.
--
-- Needs PostgreSQL 12+ (procedures with COMMIT: 11+). Idempotent.

-- The lead log's full (run_id, lead_id) index cost every de-enrolled lead an
-- index insert (about 8 % of a batch) for one query on the hot path, "did this
-- lead already fail in this run" (get_leads_for_de_enrollment), which only
-- needs the error rows. The partial index keeps that query and the operators'
-- "why did run R fail" (WHERE run_id = R AND action = 'error') fast and stays
-- nearly empty. Other look-ups by run go through processed_at or lead_id.
-- (Building it reads the lead log once; batches wait for that.)
CREATE INDEX IF NOT EXISTS de_enrollment_lead_log_run_errors_idx
  ON de_enrollment_lead_log (run_id, lead_id) WHERE action = 'error';
DROP INDEX IF EXISTS de_enrollment_lead_log_run_idx;

-- The same walk as 0021's get_leads_for_de_enrollment, in PL/pgSQL: a SQL
-- function that locks rows is never inlined, so it was planned again on every
-- batch; PL/pgSQL keeps the statement's plan for the session.
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
LANGUAGE plpgsql VOLATILE
AS $fn$
BEGIN
  RETURN QUERY
  SELECT e.id, c.id, e.current_message_position
  FROM (SELECT cp.id, de_enrollment_sequence_length(cp.messages) AS sequence_length
        FROM campaigns AS cp
        WHERE cp.client_id = p_client_id
          AND de_enrollment_sequence_length(cp.messages) IS NOT NULL
          AND (p_after_campaign IS NULL OR cp.id >= p_after_campaign)
        ORDER BY cp.id) AS c
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
  LIMIT p_batch_size;
END
$fn$;

-- 0021's de_enrollment_add_counts in PL/pgSQL: every batch calls it, and a SQL
-- function that is not inlined is planned again on every call.
CREATE OR REPLACE FUNCTION de_enrollment_add_counts(p_a jsonb, p_b jsonb)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
AS $fn$
DECLARE
  v_sum jsonb;
BEGIN
  SELECT coalesce(jsonb_object_agg(kv.k, kv.total), '{}'::jsonb)
  INTO v_sum
  FROM (SELECT e.k, sum(e.v::integer) AS total
        FROM (SELECT * FROM jsonb_each_text(coalesce(p_a, '{}'::jsonb))
              UNION ALL
              SELECT * FROM jsonb_each_text(coalesce(p_b, '{}'::jsonb))) AS e(k, v)
        GROUP BY e.k) AS kv;
  RETURN v_sum;
END
$fn$;

-- A batch counts for its run only while the run is open: a run that another
-- process closed as abandoned (its session was cut, this backend kept going)
-- must not gain leads after it was reported failed. Raising rolls the whole
-- batch back, so those leads stay eligible for the next run.
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
  WHERE r.id = p_run_id
    AND r.status = 'running';
  IF NOT FOUND THEN
    RAISE EXCEPTION 'run % is not running (closed by another process, or never started); batch rolled back', p_run_id
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  RETURN NEXT;
END
$$;

-- Starts a run: its row, 'running', unless it is there already (a retried
-- call, or a run that failed before its first batch committed). Every way a
-- run starts goes through here; de_enrollment_finish_run closes it.
CREATE OR REPLACE FUNCTION de_enrollment_start_run(p_run_id uuid, p_invocation_id uuid, p_client_id uuid,
                                                   p_run_type text, p_budget_ms integer, p_host text,
                                                   p_pid integer)
RETURNS void
LANGUAGE plpgsql VOLATILE
-- PL/pgSQL: it runs once per client, and its plan is then kept for the session
AS $fn$
BEGIN
  INSERT INTO de_enrollment_runs (id, invocation_id, client_id, run_type, status, budget_ms, host, pid)
  VALUES (p_run_id, p_invocation_id, p_client_id, p_run_type, 'running', p_budget_ms, p_host, p_pid)
  ON CONFLICT (id) DO NOTHING;
END
$fn$;

-- Closes a run: its status, how long it took (server clock, from run_at), and
-- why, when leads failed. Every way a run ends goes through here.
CREATE OR REPLACE FUNCTION de_enrollment_finish_run(p_run_id uuid, p_status text, p_error text,
                                                    p_peak_memory_mb integer)
RETURNS SETOF de_enrollment_runs
LANGUAGE sql VOLATILE
AS $$
  UPDATE de_enrollment_runs AS r
  SET status         = p_status,
      finished_at    = clock_timestamp(),
      duration_ms    = greatest(0, round(extract(epoch FROM clock_timestamp() - r.run_at) * 1000))::integer,
      error_details  = coalesce(p_error,
                                CASE WHEN r.leads_failed > 0
                                     THEN r.leads_failed || ' lead(s) failed and were left enrolled; see'
                                          || ' de_enrollment_lead_log action ''error'' for run ' || r.id END),
      peak_memory_mb = p_peak_memory_mb
  WHERE r.id = p_run_id
  RETURNING r.*
$$;

-- The runs of one invocation, client after client, batch after batch, for up
-- to p_slice_ms: p_client_ids[i] is worked on under run id p_run_ids[i]. Each
-- batch is one transaction, COMMITted before the next, exactly as when the
-- client sent them one by one; a client's run row is inserted in its first
-- batch's transaction and closed in its last one (de_enrollment_finish_run).
-- Where to start, and where the call stopped: io_position (1-based index of
-- the client to work on) and io_after_* (where that client's walk resumes;
-- NULL: from the top). io_position > cardinality(p_client_ids) means every
-- client is done. At least one batch runs per call, so every call progresses.
-- Between calls the caller checks its budget and stop requests.
-- One client's failure never stops the next: a batch that raises a
-- non-transient error is rolled back and its run closed as 'failed' with the
-- error. Transient errors (serialization, deadlock, cancel/timeout, lock
-- timeout, shutdown) end the call for the caller to retry it from where it
-- last knew; runs closed in the meantime are skipped, so a retry redoes nothing.
-- Must be CALLed outside a transaction block (it commits).
CREATE OR REPLACE PROCEDURE de_enrollment_run_clients(
  p_invocation_id uuid, p_client_ids uuid[], p_run_ids uuid[], p_run_type text, p_budget_ms integer,
  p_host text, p_pid integer, p_peak_memory_mb integer, p_batch_size integer, p_slice_ms integer,
  INOUT io_position integer,
  INOUT io_after_campaign uuid, INOUT io_after_position integer, INOUT io_after_lead uuid)
LANGUAGE plpgsql
AS $$
DECLARE
  v_slice_end timestamptz := clock_timestamp() + greatest(p_slice_ms, 0) * interval '1 millisecond';
  v_clients   integer := coalesce(cardinality(p_client_ids), 0);
  v_client    uuid;
  v_run       uuid;
  v_status    text;
  v_evaluated integer;
  v_done      boolean;
  v_error     text;
BEGIN
  IF p_batch_size IS NULL OR p_batch_size < 1 THEN
    RAISE EXCEPTION 'batch size must be at least 1, got %', p_batch_size
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF v_clients <> coalesce(cardinality(p_run_ids), 0) THEN
    RAISE EXCEPTION '% client(s) but % run id(s)', v_clients, coalesce(cardinality(p_run_ids), 0)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  io_position := greatest(coalesce(io_position, 1), 1);

  WHILE io_position <= v_clients LOOP
    v_client := p_client_ids[io_position];
    v_run := p_run_ids[io_position];
    SELECT r.status INTO v_status FROM de_enrollment_runs AS r WHERE r.id = v_run;
    IF v_status IS NOT NULL AND v_status <> 'running' THEN
      -- closed by a call that then failed transiently: nothing left to do here
      v_done := true;
    ELSE
      v_error := NULL;
      BEGIN
        IF v_status IS NULL THEN
          PERFORM de_enrollment_start_run(v_run, p_invocation_id, v_client, p_run_type, p_budget_ms, p_host, p_pid);
        END IF;

        WITH picked AS MATERIALIZED (
          SELECT g.lead_id, g.campaign_id, g.message_position
          FROM get_leads_for_de_enrollment(v_client, p_batch_size, v_run,
                                           io_after_campaign, io_after_position, io_after_lead) AS g
        ),
        batch AS (
          SELECT b.leads_evaluated
          FROM process_de_enrollment_batch(v_run,
                                           ARRAY(SELECT lead_id FROM picked),
                                           ARRAY(SELECT DISTINCT campaign_id FROM picked)) AS b
        ),
        last AS (
          SELECT campaign_id, message_position, lead_id
          FROM picked
          ORDER BY campaign_id DESC, message_position DESC, lead_id DESC
          LIMIT 1
        )
        SELECT batch.leads_evaluated, last.campaign_id, last.message_position, last.lead_id
        INTO v_evaluated, io_after_campaign, io_after_position, io_after_lead
        FROM batch LEFT JOIN last ON true;

        -- fewer than asked: the walk reached the end of the client's campaigns
        v_done := v_evaluated < p_batch_size;
        IF v_done THEN
          PERFORM de_enrollment_finish_run(v_run, 'success', NULL, p_peak_memory_mb);
        END IF;
      EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR query_canceled
             OR lock_not_available OR admin_shutdown THEN
          RAISE;
        WHEN OTHERS THEN
          v_error := left(SQLSTATE || ': ' || SQLERRM, 2000);
      END;
      IF v_error IS NOT NULL THEN
        -- the failed batch took its run row with it when it was the first
        PERFORM de_enrollment_start_run(v_run, p_invocation_id, v_client, p_run_type, p_budget_ms, p_host, p_pid);
        PERFORM de_enrollment_finish_run(v_run, 'failed', v_error, p_peak_memory_mb);
        v_done := true;
      END IF;
      COMMIT;
    END IF;

    IF v_done THEN
      io_position := io_position + 1;
      io_after_campaign := NULL;
      io_after_position := NULL;
      io_after_lead := NULL;
    END IF;
    EXIT WHEN clock_timestamp() >= v_slice_end;
  END LOOP;
END
$$;

-- Runs whose process died: still 'running', and either every advisory lock
-- that keeps them alive is free (the session that held it ended: crash,
-- kill -9, lost connection) or, as a fallback for poolers that break session
-- locks, their heartbeat is older than max(10 minutes, twice the run's own
-- budget). A live invocation holds de_enrollment_run_lock_key(invocation_id)
-- for as long as it runs; a 0023 tool held the run's own key instead.
-- (Trying a lock takes it until the caller's transaction ends: harmless.)
CREATE OR REPLACE FUNCTION de_enrollment_abandoned_runs()
RETURNS TABLE (run_id uuid)
LANGUAGE sql VOLATILE
AS $$
  SELECT r.id
  FROM de_enrollment_runs AS r
  WHERE r.status = 'running'
    AND (r.heartbeat_at < now() - greatest(interval '10 minutes', 2 * r.budget_ms * interval '1 millisecond')
         OR (pg_try_advisory_xact_lock(de_enrollment_run_lock_key(r.invocation_id))
             AND pg_try_advisory_xact_lock(de_enrollment_run_lock_key(r.id))))
$$;

COMMENT ON COLUMN de_enrollment_runs.heartbeat_at IS
  'Moved by every batch. A running row is abandoned when its process no longer holds de_enrollment_run_lock_key(invocation_id), or its heartbeat is older than max(10 min, 2 x budget_ms).';

CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 24 $$;
