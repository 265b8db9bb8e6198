-- Rollback of 0028: back to 0027's batch loop, which locks and updates its
-- invocation's row in every batch, and to 0027's closing of a run (a run whose
-- every lead failed is 'success' again; runs 0028 closed 'failed' stay so). The row's position and cursor are brought
-- up to date first (0027 reads them as exact). Nothing is lost: 0028 added
-- functions only.
UPDATE de_enrollment_invocations AS i
SET position = de_enrollment_invocation_position(i.id)
WHERE i.status = 'running';

-- Closing a run never overwrites one that is closed already (by the
-- abandoned-run check, or a call that failed after closing it).
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
    AND r.status = 'running'
  RETURNING r.*
$$;

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
      WHEN OTHERS THEN
        IF de_enrollment_retryable(SQLSTATE) THEN
          RAISE;
        END IF;
        -- Something in the batch fails (a host trigger, a constraint): retry lead
        -- by lead, each in its own subtransaction, and record the failures.
        FOREACH v_lead_id IN ARRAY p_lead_ids LOOP
          BEGIN
            by_outcome := de_enrollment_add_counts(by_outcome,
                                                   de_enrollment_apply(p_run_id, ARRAY[v_lead_id]));
          EXCEPTION
            WHEN OTHERS THEN
              IF de_enrollment_retryable(SQLSTATE) THEN
                RAISE;
              END IF;
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

COMMENT ON COLUMN de_enrollment_runs.heartbeat_at IS
  'Moved by every batch of the run. Liveness is the invocation''s (de_enrollment_heartbeats); a run of a tool before 0027 is abandoned when this is older than max(10 min, 2 x budget_ms).';

CREATE OR REPLACE PROCEDURE de_enrollment_run_invocation(p_invocation_id uuid, p_slice_ms integer,
                                                         p_peak_memory_mb integer, INOUT io_state text)
LANGUAGE plpgsql
AS $$
DECLARE
  v_slice_end    timestamptz := clock_timestamp() + greatest(coalesce(p_slice_ms, 0), 0) * interval '1 millisecond';
  v_inv_status   text;
  v_position     integer;
  v_clients      integer;
  v_deferred     integer;
  v_client       uuid;
  v_run          uuid;
  v_run_type     text;
  v_batch_size   integer;
  v_budget_ms    integer;
  v_host         text;
  v_pid          integer;
  v_ignore_pause boolean;
  v_stop         boolean;
  v_status       text;
  v_evaluated    integer;
  v_done         boolean;
  v_error        text;
  v_after_c      uuid;
  v_after_p      integer;
  v_after_l      uuid;
BEGIN
  LOOP
    -- The invocation's row, locked. And JIT off: its cost estimates make it
    -- compile these small statements for nothing (set per transaction, which
    -- a pooler allows).
    SELECT i.status, i.position, cardinality(i.client_ids), i.deferred, i.client_ids[i.position], i.run_ids[i.position],
           i.run_type, i.batch_size, i.budget_ms, i.host, i.pid, i.after_campaign, i.after_position, i.after_lead,
           i.ignore_pause, set_config('jit', 'off', true)
    INTO v_inv_status, v_position, v_clients, v_deferred, v_client, v_run,
         v_run_type, v_batch_size, v_budget_ms, v_host, v_pid, v_after_c, v_after_p, v_after_l,
         v_ignore_pause
    FROM de_enrollment_invocations AS i
    WHERE i.id = p_invocation_id
    FOR UPDATE;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'no invocation %', p_invocation_id USING ERRCODE = 'no_data_found';
    END IF;
    -- A statement of its own, after the lock: a call that waited for the lock
    -- (its invocation's previous call was still committing) must see what
    -- that call committed, and a statement's subqueries keep the snapshot it
    -- started with.
    SELECT (SELECT r.status FROM de_enrollment_runs AS r WHERE r.id = v_run),
           NOT v_ignore_pause AND EXISTS (SELECT 1 FROM de_enrollment_pauses AS p WHERE p.resumed_at IS NULL)
    INTO v_status, v_stop;
    IF v_inv_status <> 'running' THEN
      io_state := 'closed';
      RETURN;
    END IF;
    IF v_position > v_clients THEN
      io_state := 'done';
      RETURN;
    END IF;
    IF v_stop THEN
      io_state := 'paused';
      RETURN;
    END IF;

    IF v_status IS NULL AND v_position <= v_clients - v_deferred
       AND (NOT pg_try_advisory_xact_lock(1684366702, hashtext(v_client::text))
            OR EXISTS (SELECT 1 FROM de_enrollment_runs AS o
                       WHERE o.client_id = v_client AND o.status = 'running'
                         AND o.invocation_id IS DISTINCT FROM p_invocation_id)) THEN
      -- Another invocation is on this client (0026): it goes to the end of the
      -- list. Committed on its own, so the row never points at a client that
      -- a rolled-back batch had moved.
      UPDATE de_enrollment_invocations AS i
      SET client_ids = i.client_ids[:i.position - 1] || i.client_ids[i.position + 1:] || v_client,
          run_ids    = i.run_ids[:i.position - 1] || i.run_ids[i.position + 1:] || v_run,
          deferred   = i.deferred + 1,
          after_campaign = NULL, after_position = NULL, after_lead = NULL
      WHERE i.id = p_invocation_id;
      COMMIT;
      CONTINUE;
    END IF;

    IF v_status IS NOT NULL AND v_status <> 'running' THEN
      -- closed by a call that then failed transiently: nothing left to do here
      v_done := true;
    ELSE
      v_error := NULL;
      BEGIN
        IF v_status IS NULL THEN
          PERFORM de_enrollment_start_run(v_run, p_invocation_id, v_client, v_run_type, v_budget_ms, v_host, v_pid);
        END IF;

        WITH picked AS MATERIALIZED (
          SELECT g.lead_id, g.campaign_id, g.message_position
          FROM get_leads_for_de_enrollment(v_client, v_batch_size, v_run, v_after_c, v_after_p, v_after_l) AS g
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
        INTO v_evaluated, v_after_c, v_after_p, v_after_l
        FROM batch LEFT JOIN last ON true;

        -- fewer than asked: the walk reached the end of the client's campaigns
        v_done := v_evaluated < v_batch_size;
        IF v_done THEN
          PERFORM de_enrollment_finish_run(v_run, 'success', NULL, p_peak_memory_mb);
        END IF;
      EXCEPTION
        WHEN OTHERS THEN
          IF de_enrollment_retryable(SQLSTATE) THEN
            RAISE;
          END IF;
          v_error := left(SQLSTATE || ': ' || SQLERRM, 2000);
      END;
      IF v_error IS NOT NULL THEN
        -- the failed batch took its run row with it when it was the first
        PERFORM de_enrollment_start_run(v_run, p_invocation_id, v_client, v_run_type, v_budget_ms, v_host, v_pid);
        PERFORM de_enrollment_finish_run(v_run, 'failed', v_error, p_peak_memory_mb);
        v_done := true;
      END IF;
    END IF;

    IF v_done THEN
      UPDATE de_enrollment_invocations
      SET position = position + 1, after_campaign = NULL, after_position = NULL, after_lead = NULL
      WHERE id = p_invocation_id;
      v_position := v_position + 1;
    ELSE
      UPDATE de_enrollment_invocations
      SET after_campaign = v_after_c, after_position = v_after_p, after_lead = v_after_l
      WHERE id = p_invocation_id;
    END IF;
    COMMIT;
    EXIT WHEN clock_timestamp() >= v_slice_end;
  END LOOP;
  io_state := CASE WHEN v_position > v_clients THEN 'done' ELSE 'working' END;
END
$$;

CREATE OR REPLACE FUNCTION de_enrollment_fail_in_flight(p_invocation_id uuid, p_error text, p_peak_memory_mb integer)
RETURNS uuid
LANGUAGE plpgsql VOLATILE
AS $fn$
DECLARE
  v_inv de_enrollment_invocations;
  v_run uuid;
BEGIN
  SELECT * INTO v_inv FROM de_enrollment_invocations WHERE id = p_invocation_id AND status = 'running' FOR UPDATE;
  IF NOT FOUND OR v_inv.position > cardinality(v_inv.client_ids) THEN
    RETURN NULL;
  END IF;
  v_run := v_inv.run_ids[v_inv.position];
  PERFORM de_enrollment_start_run(v_run, p_invocation_id, v_inv.client_ids[v_inv.position], v_inv.run_type,
                                  v_inv.budget_ms, v_inv.host, v_inv.pid);
  PERFORM de_enrollment_finish_run(v_run, 'failed', p_error, p_peak_memory_mb);
  UPDATE de_enrollment_invocations
  SET position = position + 1, after_campaign = NULL, after_position = NULL, after_lead = NULL
  WHERE id = p_invocation_id;
  RETURN v_run;
END
$fn$;

CREATE OR REPLACE FUNCTION de_enrollment_finish_invocation(p_invocation_id uuid, p_stop_reason text,
                                                           p_peak_memory_mb integer)
RETURNS text
LANGUAGE plpgsql VOLATILE
AS $fn$
DECLARE
  v_inv de_enrollment_invocations;
  v_run uuid;
BEGIN
  SELECT * INTO v_inv FROM de_enrollment_invocations WHERE id = p_invocation_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no invocation %', p_invocation_id USING ERRCODE = 'no_data_found';
  END IF;
  IF v_inv.status <> 'running' THEN
    RETURN v_inv.status;
  END IF;
  IF v_inv.position <= cardinality(v_inv.client_ids) THEN
    v_run := v_inv.run_ids[v_inv.position];
    PERFORM de_enrollment_finish_run(v_run,
              CASE WHEN EXISTS (SELECT 1 FROM de_enrollment_eligible_leads AS e
                                WHERE e.client_id = v_inv.client_ids[v_inv.position])
                   THEN 'partial' ELSE 'success' END,
              NULL, p_peak_memory_mb);
  END IF;
  UPDATE de_enrollment_invocations
  SET status = 'finished', finished_at = clock_timestamp(),
      stop_reason = CASE WHEN position > cardinality(client_ids) THEN 'done' ELSE p_stop_reason END
  WHERE id = p_invocation_id;
  RETURN 'finished';
END
$fn$;

CREATE OR REPLACE FUNCTION de_enrollment_close_abandoned_invocations()
RETURNS TABLE (run_id uuid, client_id uuid, invocation_id uuid, host text, pid integer, run_at timestamptz,
               heartbeat_at timestamptz)
LANGUAGE plpgsql VOLATILE
AS $fn$
BEGIN
  UPDATE de_enrollment_invocations AS i
  SET status = 'abandoned', stop_reason = 'abandoned', finished_at = now()
  WHERE i.id IN (SELECT d.id
                 FROM de_enrollment_invocations AS d
                 LEFT JOIN de_enrollment_heartbeats AS h ON h.invocation_id = d.id
                 WHERE d.status = 'running'
                   AND de_enrollment_lease_expired(coalesce(h.heartbeat_at, d.started_at), d.lease_ms)
                 FOR UPDATE OF d SKIP LOCKED);

  RETURN QUERY
  UPDATE de_enrollment_runs AS r
  SET status        = 'failed',
      finished_at   = now(),
      duration_ms   = greatest(0, (extract(epoch FROM coalesce(h.heartbeat_at, r.heartbeat_at) - r.run_at) * 1000))::integer,
      error_details = 'abandoned: the process (' || coalesce(r.host, '?') || ' pid ' || coalesce(r.pid::text, '?')
                      || ') stopped without closing the run (last heartbeat '
                      || to_char(coalesce(h.heartbeat_at, r.heartbeat_at) AT TIME ZONE 'UTC',
                                 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')'
  FROM de_enrollment_runs AS o
  LEFT JOIN de_enrollment_invocations AS i ON i.id = o.invocation_id
  LEFT JOIN de_enrollment_heartbeats AS h ON h.invocation_id = o.invocation_id
  WHERE r.id = o.id
    AND r.status = 'running'
    -- a live invocation (its lease not expired, or its batch holding its row) keeps its runs
    AND (i.id IS NULL OR i.status <> 'running')
    AND o.id IN (SELECT a.run_id FROM de_enrollment_abandoned_runs() AS a)
  RETURNING r.id, r.client_id, r.invocation_id, r.host, r.pid, r.run_at, coalesce(h.heartbeat_at, r.heartbeat_at);
END
$fn$;

CREATE OR REPLACE VIEW de_enrollment_live_invocations AS
SELECT i.id AS invocation_id,
       i.host,
       i.pid,
       i.run_type,
       i.started_at,
       h.heartbeat_at,
       -- now() is when this statement's transaction began; a beat since then is 0 s old
       round(greatest(0, extract(epoch FROM now() - h.heartbeat_at))::numeric, 1) AS heartbeat_age_s,
       i.lease_ms,
       i.budget_ms,
       i.ignore_pause,
       CASE WHEN i.position <= cardinality(i.client_ids) THEN i.client_ids[i.position] END AS client_in_flight_id,
       c.name AS client_in_flight_name,
       least(i.position - 1, cardinality(i.client_ids)) AS clients_done,
       cardinality(i.client_ids) AS clients_total,
       coalesce(r.leads_de_enrolled, 0) AS leads_de_enrolled
FROM de_enrollment_invocations AS i
LEFT JOIN de_enrollment_heartbeats AS h ON h.invocation_id = i.id
LEFT JOIN clients AS c ON c.id = i.client_ids[i.position]
LEFT JOIN LATERAL (SELECT sum(x.leads_de_enrolled)::integer AS leads_de_enrolled
                   FROM de_enrollment_runs AS x WHERE x.invocation_id = i.id) AS r ON true
WHERE i.status = 'running';

COMMENT ON TABLE de_enrollment_invocations IS
  'One row per invocation of deenroll run: its clients in order (client_ids, run_ids), where it is (position, after_*), advanced in each batch''s own transaction. See docs/engine.md.';

DROP FUNCTION IF EXISTS de_enrollment_invocation_progress(uuid);
DROP FUNCTION IF EXISTS de_enrollment_invocation_position(uuid);
DROP FUNCTION IF EXISTS de_enrollment_lock_invocation(uuid, boolean);

CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 27 $$;
