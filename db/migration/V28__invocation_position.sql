-- 0028 a batch writes nothing to its invocation's row.
--
-- In 0027 every batch locked its invocation's row (SELECT ... FOR UPDATE) and
-- updated it (position, cursor) before its COMMIT: two heap writes and their
-- WAL per batch, which made an idle pass (one batch per client) about 0.25 ms
-- a client slower than 0026. Neither is needed to know where the work stands:
--   * A client is done exactly when its run row is closed, and runs only ever
--     go from absent to running to closed. So every client before the row's
--     position has a closed run, and the client in flight is the first one at
--     or after it whose run is not closed: de_enrollment_invocation_position,
--     the one definition, used by the batch loop, fail_in_flight, finish and
--     the status view. The row's position is written when a call ends (and
--     with a deferral), so that walk is short.
--   * The cursor of a client's walk (after_*) is only a shortcut: a lead a
--     batch evaluated is de-enrolled (no longer eligible), or logged as an
--     error of this run (get_leads_for_de_enrollment passes over it), so a
--     walk that starts from an older cursor re-counts nothing. It is written
--     when a call ends, with the position.
--   * Two calls for one invocation (a retry while the first one's backend
--     still runs) take turns batch by batch on a transaction-level advisory
--     lock on the invocation (de_enrollment_lock_invocation) instead of its
--     row: nothing written, released at each COMMIT, safe behind a pooler.
--     fail_in_flight and finish take the same lock; the abandoned-invocation
--     close only tries it, and passes over an invocation whose batch is in
--     flight.
--   * A batch no longer moves its run's heartbeat_at (see process_de_enrollment_batch).
--   * A run whose every lead tried failed is 'failed' (de_enrollment_finish_run).
-- Progress between calls shows in the run rows (each batch moves its run's
-- counters), which is what Java's retry loop reads.
-- Needs PostgreSQL 12+. Idempotent. Rollback: db/rollback/U28__invocation_position.sql.

-- Closing a run never overwrites one that is closed already (by the
-- abandoned-run check, or a call that failed after closing it). A run that
-- attempted leads and de-enrolled none because every one it tried failed is
-- 'failed', whatever the caller asked (0028): nothing de-enrolls for that
-- client, and saying 'success' would keep every signal green. Its
-- error_details say how many and the first error.
CREATE OR REPLACE FUNCTION de_enrollment_finish_run(p_run_id uuid, p_status text, p_error text,
                                                    p_peak_memory_mb integer)
RETURNS SETOF de_enrollment_runs
LANGUAGE sql VOLATILE
AS $$
  UPDATE de_enrollment_runs AS r
  SET status         = CASE WHEN r.leads_failed > 0 AND r.leads_de_enrolled = 0 THEN 'failed' ELSE p_status END,
      finished_at    = clock_timestamp(),
      duration_ms    = greatest(0, round(extract(epoch FROM clock_timestamp() - r.run_at) * 1000))::integer,
      error_details  = coalesce(p_error,
                                CASE WHEN r.leads_failed > 0 AND r.leads_de_enrolled = 0
                                     THEN 'every lead it tried failed: ' || r.leads_failed
                                          || ' lead(s) left enrolled, none de-enrolled; first error: '
                                          || coalesce((SELECT g.error_message FROM de_enrollment_lead_log AS g
                                                       WHERE g.run_id = r.id AND g.action = 'error'
                                                       ORDER BY g.processed_at, g.lead_id LIMIT 1), '?')
                                          || ' (de_enrollment_lead_log action ''error'' for run ' || r.id || ')'
                                     WHEN r.leads_failed > 0
                                     THEN r.leads_failed || ' lead(s) failed and were left enrolled; see'
                                          || ' de_enrollment_lead_log action ''error'' for run ' || r.id END),
      peak_memory_mb = p_peak_memory_mb
  WHERE r.id = p_run_id
    AND r.status = 'running'
  RETURNING r.*
$$;

-- 0027's batch, without moving the run's heartbeat_at: liveness is the
-- invocation's heartbeat since 0027, and an indexed column changed in every
-- batch made each update of the run row a non-HOT one (new entries in all six
-- of its indexes). Now a batch's update of its run touches no indexed column.
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
      batches           = r.batches + 1
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
  'When the run started (0028 on) or its last batch (before 0028). Liveness is the invocation''s (de_enrollment_heartbeats); a run of a tool before 0027 is abandoned when this is older than max(10 min, 2 x budget_ms).';

-- Waits for (p_wait) or tries the lock that serialises the work on one
-- invocation, until the end of the current transaction. Two int keys: 'deei'
-- and the invocation, a space apart from the client claims ('deen', 0026).
CREATE OR REPLACE FUNCTION de_enrollment_lock_invocation(p_invocation_id uuid, p_wait boolean DEFAULT true)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $fn$
BEGIN
  IF p_wait THEN
    PERFORM pg_advisory_xact_lock(1684366697, hashtext(p_invocation_id::text));
    RETURN true;
  END IF;
  RETURN pg_try_advisory_xact_lock(1684366697, hashtext(p_invocation_id::text));
END
$fn$;

-- The client in flight: the first position, from the row's own on, whose run
-- is not closed (cardinality + 1 when every client is done; NULL for an
-- unknown invocation).
CREATE OR REPLACE FUNCTION de_enrollment_invocation_position(p_invocation_id uuid)
RETURNS integer
LANGUAGE plpgsql STABLE
AS $fn$
DECLARE
  v_position integer;
  v_run_ids  uuid[];
BEGIN
  SELECT i.position, i.run_ids INTO v_position, v_run_ids
  FROM de_enrollment_invocations AS i
  WHERE i.id = p_invocation_id;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  WHILE v_position <= coalesce(cardinality(v_run_ids), 0)
        AND EXISTS (SELECT 1 FROM de_enrollment_runs AS r
                    WHERE r.id = v_run_ids[v_position] AND r.status <> 'running') LOOP
    v_position := v_position + 1;
  END LOOP;
  RETURN v_position;
END
$fn$;

-- How far an invocation is, for the caller's retry loop: the client in flight
-- and how many batches its run has committed. Either moves with every batch
-- that commits, whichever call it was in.
CREATE OR REPLACE FUNCTION de_enrollment_invocation_progress(p_invocation_id uuid)
RETURNS TABLE (client_position integer, batches integer)
LANGUAGE sql STABLE
AS $$
  SELECT p.position, coalesce(r.batches, 0)
  FROM de_enrollment_invocations AS i
  CROSS JOIN LATERAL (SELECT de_enrollment_invocation_position(i.id) AS position) AS p
  LEFT JOIN de_enrollment_runs AS r ON r.id = i.run_ids[p.position]
  WHERE i.id = p_invocation_id
$$;

-- Works on invocation p_invocation_id, batch after batch, client after
-- client, for up to p_slice_ms (at least one batch). Each batch is one
-- transaction under the invocation's lock: it finds the client in flight,
-- takes that client's next batch and commits. The invocation's row is written
-- by the last batch of the call (position and cursor) and by a deferral.
-- A client's run row is inserted in its first batch's transaction and closed
-- in its last one. One client's failure never stops the next: a batch that
-- raises a non-retryable error is rolled back and its run closed 'failed'
-- with the error. A retryable error ends the call; calling again resumes.
-- A client another invocation is working on (its run row is 'running', or it
-- is being started right now: a transaction-level advisory lock, only ever
-- tried) is moved to the end of the list, once (0026).
-- io_state on return: 'working' (call again), 'done' (every client had its
-- run), 'paused' (a pause is in force and the invocation does not ignore it:
-- nothing more was started) or 'closed' (the invocation is not running:
-- another process closed it as abandoned).
-- Must be CALLed outside a transaction block (it commits).
CREATE OR REPLACE PROCEDURE de_enrollment_run_invocation(p_invocation_id uuid, p_slice_ms integer,
                                                         p_peak_memory_mb integer, INOUT io_state text)
LANGUAGE plpgsql
AS $$
DECLARE
  v_slice_end    timestamptz := clock_timestamp() + greatest(coalesce(p_slice_ms, 0), 0) * interval '1 millisecond';
  v_inv_status   text;
  v_row_position integer;
  v_position     integer := 1;
  v_clients      integer;
  v_deferred     integer;
  v_row_deferred integer;
  v_client_ids   uuid[];
  v_run_ids      uuid[];
  v_client       uuid;
  v_run          uuid;
  v_run_type     text;
  v_batch_size   integer;
  v_budget_ms    integer;
  v_host         text;
  v_pid          integer;
  v_stop         boolean;
  v_status       text;
  v_evaluated    integer;
  v_done         boolean;
  v_error        text;
  v_after_c      uuid;
  v_after_p      integer;
  v_after_l      uuid;
  v_last         boolean;
BEGIN
  LOOP
    -- JIT off: its cost estimates make it compile these small statements for
    -- nothing (set per transaction, which a pooler allows).
    PERFORM de_enrollment_lock_invocation(p_invocation_id), set_config('jit', 'off', true);
    -- Statements of their own, after the lock: their snapshots see what the
    -- previous holder committed. Every client before the larger of the row's
    -- position and this call's own is done.
    SELECT i.status, i.position, i.deferred,
           CASE WHEN i.position > v_position THEN i.after_campaign ELSE v_after_c END,
           CASE WHEN i.position > v_position THEN i.after_position ELSE v_after_p END,
           CASE WHEN i.position > v_position THEN i.after_lead ELSE v_after_l END,
           NOT i.ignore_pause AND EXISTS (SELECT 1 FROM de_enrollment_pauses AS p WHERE p.resumed_at IS NULL)
    INTO v_inv_status, v_row_position, v_row_deferred, v_after_c, v_after_p, v_after_l, v_stop
    FROM de_enrollment_invocations AS i
    WHERE i.id = p_invocation_id;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'no invocation %', p_invocation_id USING ERRCODE = 'no_data_found';
    END IF;
    IF v_client_ids IS NULL OR v_row_deferred <> v_deferred THEN
      -- The clients in order: read once a call, and again after a deferral
      -- (the only change to them), so a batch never reads the whole list.
      SELECT i.client_ids, i.run_ids, cardinality(i.client_ids), i.deferred,
             i.run_type, i.batch_size, i.budget_ms, i.host, i.pid
      INTO v_client_ids, v_run_ids, v_clients, v_deferred, v_run_type, v_batch_size, v_budget_ms, v_host, v_pid
      FROM de_enrollment_invocations AS i
      WHERE i.id = p_invocation_id;
    END IF;
    v_position := greatest(v_row_position, v_position);
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
    v_client := v_client_ids[v_position];
    v_run := v_run_ids[v_position];
    SELECT r.status INTO v_status FROM de_enrollment_runs AS r WHERE r.id = v_run;

    IF v_status IS NULL AND v_position <= v_clients - v_deferred
       AND (NOT pg_try_advisory_xact_lock(1684366702, hashtext(v_client::text))
            OR EXISTS (SELECT 1 FROM de_enrollment_runs AS o
                       WHERE o.client_id = v_client AND o.status = 'running'
                         AND o.invocation_id IS DISTINCT FROM p_invocation_id)) THEN
      -- Another invocation is on this client (0026): it goes to the end of the
      -- list. Committed on its own, so the row never points at a client that
      -- a rolled-back batch had moved.
      UPDATE de_enrollment_invocations AS i
      SET client_ids = i.client_ids[:v_position - 1] || i.client_ids[v_position + 1:] || v_client,
          run_ids    = i.run_ids[:v_position - 1] || i.run_ids[v_position + 1:] || v_run,
          deferred   = i.deferred + 1,
          position   = v_position,
          after_campaign = NULL, after_position = NULL, after_lead = NULL
      WHERE i.id = p_invocation_id;
      COMMIT;
      v_after_c := NULL;
      v_after_p := NULL;
      v_after_l := NULL;
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
      v_position := v_position + 1;
      v_after_c := NULL;
      v_after_p := NULL;
      v_after_l := NULL;
    END IF;
    v_last := v_position > v_clients OR clock_timestamp() >= v_slice_end;
    IF v_last THEN
      -- the call's last batch leaves where it stands in the row, for the next call
      UPDATE de_enrollment_invocations AS i
      SET position = v_position, after_campaign = v_after_c, after_position = v_after_p, after_lead = v_after_l
      WHERE i.id = p_invocation_id
        AND i.position <= v_position;
    END IF;
    COMMIT;
    EXIT WHEN v_last;
  END LOOP;
  io_state := CASE WHEN v_position > v_clients THEN 'done' ELSE 'working' END;
END
$$;

-- The caller gave up on the client in flight (a retryable error persisted
-- until its attempts or the budget ran out): that client's run is closed
-- 'failed' with the error, and the invocation moves on to the next client.
-- Returns the run id, or NULL when every client was done already.
CREATE OR REPLACE FUNCTION de_enrollment_fail_in_flight(p_invocation_id uuid, p_error text, p_peak_memory_mb integer)
RETURNS uuid
LANGUAGE plpgsql VOLATILE
AS $fn$
DECLARE
  v_inv      de_enrollment_invocations;
  v_position integer;
  v_run      uuid;
BEGIN
  PERFORM de_enrollment_lock_invocation(p_invocation_id);
  SELECT * INTO v_inv FROM de_enrollment_invocations WHERE id = p_invocation_id AND status = 'running';
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  v_position := de_enrollment_invocation_position(p_invocation_id);
  IF v_position > cardinality(v_inv.client_ids) THEN
    RETURN NULL;
  END IF;
  v_run := v_inv.run_ids[v_position];
  PERFORM de_enrollment_start_run(v_run, p_invocation_id, v_inv.client_ids[v_position], v_inv.run_type,
                                  v_inv.budget_ms, v_inv.host, v_inv.pid);
  PERFORM de_enrollment_finish_run(v_run, 'failed', p_error, p_peak_memory_mb);
  UPDATE de_enrollment_invocations
  SET position = v_position + 1, after_campaign = NULL, after_position = NULL, after_lead = NULL
  WHERE id = p_invocation_id;
  RETURN v_run;
END
$fn$;

-- Ends an invocation: the run in flight, cut short by the budget, SIGTERM or a
-- pause, is closed 'partial' when its client still has eligible leads, else
-- 'success' (its walk had simply not seen its end yet). Clients not started
-- stay without a run and go first next time. Returns the invocation's status:
-- 'finished', or 'abandoned' when another process closed it meanwhile.
CREATE OR REPLACE FUNCTION de_enrollment_finish_invocation(p_invocation_id uuid, p_stop_reason text,
                                                           p_peak_memory_mb integer)
RETURNS text
LANGUAGE plpgsql VOLATILE
AS $fn$
DECLARE
  v_inv      de_enrollment_invocations;
  v_position integer;
BEGIN
  PERFORM de_enrollment_lock_invocation(p_invocation_id);
  SELECT * INTO v_inv FROM de_enrollment_invocations WHERE id = p_invocation_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no invocation %', p_invocation_id USING ERRCODE = 'no_data_found';
  END IF;
  IF v_inv.status <> 'running' THEN
    RETURN v_inv.status;
  END IF;
  v_position := de_enrollment_invocation_position(p_invocation_id);
  IF v_position <= cardinality(v_inv.client_ids) THEN
    PERFORM de_enrollment_finish_run(v_inv.run_ids[v_position],
              CASE WHEN EXISTS (SELECT 1 FROM de_enrollment_eligible_leads AS e
                                WHERE e.client_id = v_inv.client_ids[v_position])
                   THEN 'partial' ELSE 'success' END,
              NULL, p_peak_memory_mb);
  END IF;
  UPDATE de_enrollment_invocations
  SET status = 'finished', finished_at = clock_timestamp(), position = v_position,
      stop_reason = CASE WHEN v_position > cardinality(client_ids) THEN 'done' ELSE p_stop_reason END
  WHERE id = p_invocation_id;
  RETURN 'finished';
END
$fn$;

-- As 0027's, but an invocation whose batch is in flight is recognised by its
-- lock (only tried) rather than by its row's lock.
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
                   -- the lock is tried only for an expired one (CASE keeps the order); every writer
                   -- of an invocation's row holds it, so the closer never waits for one
                   AND CASE WHEN de_enrollment_lease_expired(coalesce(h.heartbeat_at, d.started_at), d.lease_ms)
                            THEN de_enrollment_lock_invocation(d.id, false) ELSE false END);

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
    -- a live invocation (its lease not expired, or its batch holding its lock) keeps its runs
    AND (i.id IS NULL OR i.status <> 'running')
    AND o.id IN (SELECT a.run_id FROM de_enrollment_abandoned_runs() AS a)
  RETURNING r.id, r.client_id, r.invocation_id, r.host, r.pid, r.run_at, coalesce(h.heartbeat_at, r.heartbeat_at);
END
$fn$;

-- The live invocations, for `deenroll status` and for psql: who runs them,
-- how old their heartbeat is, the client in flight, how far they are.
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
       CASE WHEN p.position <= cardinality(i.client_ids) THEN i.client_ids[p.position] END AS client_in_flight_id,
       c.name AS client_in_flight_name,
       least(p.position - 1, cardinality(i.client_ids)) AS clients_done,
       cardinality(i.client_ids) AS clients_total,
       coalesce(r.leads_de_enrolled, 0) AS leads_de_enrolled
FROM de_enrollment_invocations AS i
CROSS JOIN LATERAL (SELECT de_enrollment_invocation_position(i.id) AS position) AS p
LEFT JOIN de_enrollment_heartbeats AS h ON h.invocation_id = i.id
LEFT JOIN clients AS c ON c.id = i.client_ids[p.position]
LEFT JOIN LATERAL (SELECT sum(x.leads_de_enrolled)::integer AS leads_de_enrolled
                   FROM de_enrollment_runs AS x WHERE x.invocation_id = i.id) AS r ON true
WHERE i.status = 'running';

COMMENT ON TABLE de_enrollment_invocations IS
  'One row per invocation of deenroll run: its clients in order (client_ids, run_ids); position and after_* are where the last call of the batch loop left it (the client in flight is de_enrollment_invocation_position). See docs/engine.md.';

CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 28 $$;
