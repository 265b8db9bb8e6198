-- 0027 the invocation lives in PostgreSQL.
--
-- Until 0026 an invocation's state (its clients in order, where it was, how
-- many clients it had moved to the end) lived in the JVM and went back and
-- forth through the procedure's 15 positional parameters, and its liveness was
-- a session-level advisory lock. Behind a transaction pooler (PgBouncer) a
-- session lock belongs to whichever server connection the pooler picked: a
-- live run was taken for dead, and a dead one's lock outlived it.
--
-- Now:
--   * de_enrollment_invocations holds each invocation: who started it, its
--     budget, its clients in order with their run ids, where it is (the client
--     in flight and the cursor of its walk), and its status. The batch loop
--     reads and advances that row inside each batch's own transaction, so a
--     retried call needs only the invocation id, and a failure is attributed
--     to exactly the client that was in flight.
--   * de_enrollment_heartbeats: one row per invocation, moved by the process
--     on a connection of its own every few seconds. It is a table apart so a
--     beat never waits for a batch that holds the invocation's row. An
--     invocation whose heartbeat is older than its lease is dead; the next
--     invocation, health-check or status closes it and its runs (abandoned).
--     No session state anywhere: every statement stands on its own
--     transaction, as a transaction pooler requires.
--   * de_enrollment_pauses: a pause kept in the database (who, when, why).
--     While one is open, new invocations do nothing and those in flight stop
--     before their next batch.
--   * de_enrollment_retryable(sqlstate): the one list of errors the caller
--     retries; PL/pgSQL re-raises exactly those.
--   * de_enrollment_finish_run never overwrites a run that is no longer
--     'running'.
--
-- The batch itself (get_leads_for_de_enrollment, process_de_enrollment_batch,
-- de_enrollment_apply) is unchanged but for the error test.
-- Needs PostgreSQL 12+. Idempotent. Rollback: db/rollback/U27__invocations.sql.

-- ------------------------------------------------------------ invocations

CREATE TABLE IF NOT EXISTS de_enrollment_invocations (
  id             uuid        PRIMARY KEY,
  host           text        NOT NULL,
  pid            integer     NOT NULL,
  run_type       text        NOT NULL CHECK (run_type IN ('scheduled', 'manual', 'retry', 'migration')),
  batch_size     integer     NOT NULL CHECK (batch_size >= 1),
  budget_ms      integer     NOT NULL CHECK (budget_ms >= 0),
  lease_ms       integer     NOT NULL CHECK (lease_ms > 0),
  ignore_pause   boolean     NOT NULL DEFAULT false,
  started_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz,
  status         text        NOT NULL DEFAULT 'running'
                 CHECK (status IN ('running', 'finished', 'abandoned')),
  -- why it stopped: done (every client had its run), budget, sigterm, paused, abandoned
  stop_reason    text        CHECK (stop_reason IN ('done', 'budget', 'sigterm', 'paused', 'abandoned')),
  client_ids     uuid[]      NOT NULL,
  run_ids        uuid[]      NOT NULL,
  -- 1-based index into client_ids of the client in flight; past the end: every client is done
  position       integer     NOT NULL DEFAULT 1,
  -- how many clients at the end of client_ids were moved there because another invocation had them
  deferred       integer     NOT NULL DEFAULT 0,
  -- where the in-flight client's walk resumes (NULL: from the top)
  after_campaign uuid,
  after_position integer,
  after_lead     uuid,
  CHECK (cardinality(client_ids) = cardinality(run_ids))
);
CREATE INDEX IF NOT EXISTS de_enrollment_invocations_started_idx ON de_enrollment_invocations (started_at);
CREATE INDEX IF NOT EXISTS de_enrollment_invocations_running_idx
  ON de_enrollment_invocations (started_at) WHERE status = 'running';

COMMENT ON TABLE de_enrollment_invocations IS
  'One row per invocation of deenroll run: its clients in order (client_ids, run_ids), where it is (position, after_*), advanced in each batch''s own transaction. See docs/engine.md.';

CREATE TABLE IF NOT EXISTS de_enrollment_heartbeats (
  invocation_id uuid        PRIMARY KEY REFERENCES de_enrollment_invocations (id) ON DELETE CASCADE,
  heartbeat_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

COMMENT ON TABLE de_enrollment_heartbeats IS
  'Moved by the process of each invocation every lease/6 on a connection of its own; an invocation whose heartbeat is older than its lease_ms is dead (abandoned).';

CREATE TABLE IF NOT EXISTS de_enrollment_pauses (
  id         bigserial   PRIMARY KEY,
  paused_at  timestamptz NOT NULL DEFAULT now(),
  paused_by  text        NOT NULL,
  reason     text        NOT NULL CHECK (length(btrim(reason)) > 0),
  resumed_at timestamptz,
  resumed_by text
);
-- at most one open pause
CREATE UNIQUE INDEX IF NOT EXISTS de_enrollment_pauses_open_idx ON de_enrollment_pauses ((true))
  WHERE resumed_at IS NULL;

COMMENT ON TABLE de_enrollment_pauses IS
  'deenroll pause / resume. The row with resumed_at NULL is the pause in force: runs do nothing while it is open.';

-- The errors a caller retries, and PL/pgSQL re-raises for it instead of
-- closing the client's run as failed: the statement lost a race, was
-- cancelled or timed out, or the server is going away or coming back. The
-- lost-connection class (08) never reaches PL/pgSQL. deenroll's
-- TransientErrors holds the same list (a test compares the two).
CREATE OR REPLACE FUNCTION de_enrollment_retryable(p_sqlstate text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT p_sqlstate IN ('40001',   -- serialization_failure
                        '40P01',   -- deadlock_detected
                        '55P03',   -- lock_not_available
                        '57014',   -- query_canceled (statement timeout, pg_cancel_backend)
                        '57P01',   -- admin_shutdown
                        '57P02',   -- crash_shutdown
                        '57P03')   -- cannot_connect_now
         OR left(p_sqlstate, 2) = '08'
$$;

-- The pause in force, if any.
CREATE OR REPLACE FUNCTION de_enrollment_current_pause()
RETURNS SETOF de_enrollment_pauses
LANGUAGE sql STABLE
AS $$ SELECT * FROM de_enrollment_pauses WHERE resumed_at IS NULL $$;

-- Pauses de-enrollment. A pause already in force is left as it is and
-- returned (is_new false): its reason and author stay those of who paused first.
CREATE OR REPLACE FUNCTION de_enrollment_pause(p_by text, p_reason text)
RETURNS TABLE (id bigint, paused_at timestamptz, paused_by text, reason text, is_new boolean)
LANGUAGE plpgsql VOLATILE
AS $fn$
BEGIN
  RETURN QUERY
  INSERT INTO de_enrollment_pauses AS p (paused_by, reason) VALUES (p_by, p_reason)
  ON CONFLICT ((true)) WHERE resumed_at IS NULL DO NOTHING
  RETURNING p.id, p.paused_at, p.paused_by, p.reason, true;
  IF NOT FOUND THEN
    RETURN QUERY
    SELECT p.id, p.paused_at, p.paused_by, p.reason, false FROM de_enrollment_pauses AS p WHERE p.resumed_at IS NULL;
  END IF;
END
$fn$;

-- Ends the pause in force; returns it, or nothing when there was none.
CREATE OR REPLACE FUNCTION de_enrollment_resume(p_by text)
RETURNS SETOF de_enrollment_pauses
LANGUAGE sql VOLATILE
AS $$
  UPDATE de_enrollment_pauses AS p SET resumed_at = now(), resumed_by = p_by
  WHERE p.resumed_at IS NULL
  RETURNING p.*
$$;

-- The clients a run works on, in order: the one named, or every active
-- client, least recently run first, so that clients left out when a budget
-- ran out go first next time. The dry run lists the same.
CREATE OR REPLACE FUNCTION de_enrollment_clients_to_run(p_client_id uuid DEFAULT NULL)
RETURNS TABLE (client_id uuid, client_name text)
LANGUAGE sql STABLE
AS $$
  SELECT c.id, c.name
  FROM clients AS c
  LEFT JOIN LATERAL (SELECT max(r.run_at) AS last_run_at FROM de_enrollment_runs AS r WHERE r.client_id = c.id) AS lr
         ON true
  WHERE CASE WHEN p_client_id IS NULL THEN c.is_active ELSE c.id = p_client_id END
  ORDER BY lr.last_run_at ASC NULLS FIRST, c.id
$$;

-- Starts an invocation: its row, with its clients in order and a run id for
-- each, and its first heartbeat. Returns 'running', or 'paused' (and writes
-- nothing) when a pause is in force and p_ignore_pause is false. A run id is
-- derived from the invocation and the client (md5, as PostgreSQL 12 has no
-- gen_random_uuid without pgcrypto): unique, and the same on a retried call.
CREATE OR REPLACE FUNCTION de_enrollment_begin_invocation(p_invocation_id uuid, p_host text, p_pid integer,
                                                          p_run_type text, p_batch_size integer, p_budget_ms integer,
                                                          p_lease_ms integer, p_ignore_pause boolean,
                                                          p_client_id uuid DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE
AS $fn$
BEGIN
  IF NOT p_ignore_pause AND EXISTS (SELECT 1 FROM de_enrollment_pauses WHERE resumed_at IS NULL) THEN
    RETURN 'paused';
  END IF;
  INSERT INTO de_enrollment_invocations (id, host, pid, run_type, batch_size, budget_ms, lease_ms, ignore_pause,
                                         client_ids, run_ids)
  SELECT p_invocation_id, p_host, p_pid, p_run_type, p_batch_size, p_budget_ms, p_lease_ms, p_ignore_pause,
         coalesce(array_agg(c.client_id ORDER BY c.ord), '{}'),
         coalesce(array_agg(md5(p_invocation_id::text || c.client_id::text)::uuid ORDER BY c.ord), '{}')
  FROM de_enrollment_clients_to_run(p_client_id) WITH ORDINALITY AS c(client_id, client_name, ord)
  ON CONFLICT (id) DO NOTHING;
  INSERT INTO de_enrollment_heartbeats (invocation_id) VALUES (p_invocation_id)
  ON CONFLICT (invocation_id) DO UPDATE SET heartbeat_at = clock_timestamp();
  RETURN 'running';
END
$fn$;

-- The process is alive: its invocation's heartbeat moves. Returns the
-- invocation's status, so a process whose invocation was closed as abandoned
-- (it was cut off longer than its lease) learns it at its next beat.
CREATE OR REPLACE FUNCTION de_enrollment_heartbeat(p_invocation_id uuid)
RETURNS text
LANGUAGE sql VOLATILE
AS $$
  WITH beat AS (
    UPDATE de_enrollment_heartbeats SET heartbeat_at = clock_timestamp() WHERE invocation_id = p_invocation_id
  )
  SELECT i.status FROM de_enrollment_invocations AS i WHERE i.id = p_invocation_id
$$;

-- ------------------------------------------------------------ runs

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

-- 0024's batch, with the error test from de_enrollment_retryable.
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

-- ------------------------------------------------------------ the batch loop

DROP PROCEDURE IF EXISTS de_enrollment_run_clients(uuid, uuid[], uuid[], text, integer, text, integer, integer, integer,
  integer, integer, integer, uuid, integer, uuid);

-- Works on invocation p_invocation_id, batch after batch, client after
-- client, for up to p_slice_ms (at least one batch). Each batch is one
-- transaction: it locks the invocation's row, takes the next batch of the
-- client in flight, and moves the row's position and cursor before its
-- COMMIT, so the row always says exactly where the work stands, and two calls
-- for the same invocation (a retry while the first one's backend still runs)
-- take turns instead of racing.
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

-- The caller gave up on the client in flight (a retryable error persisted
-- until its attempts or the budget ran out): that client's run is closed
-- 'failed' with the error, and the invocation moves on to the next client.
-- Returns the run id, or NULL when every client was done already.
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

-- ------------------------------------------------------------ abandoned

DROP FUNCTION IF EXISTS de_enrollment_close_abandoned_runs();
DROP FUNCTION IF EXISTS de_enrollment_abandoned_runs();
DROP FUNCTION IF EXISTS de_enrollment_run_lock_key(uuid);

-- An invocation is dead when no heartbeat landed for a whole lease: the one
-- definition, used by the close below, by verify and by status.
CREATE OR REPLACE FUNCTION de_enrollment_lease_expired(p_heartbeat_at timestamptz, p_lease_ms integer)
RETURNS boolean
LANGUAGE sql STABLE
AS $$ SELECT p_heartbeat_at < now() - p_lease_ms * interval '1 millisecond' $$;

-- Runs left 'running' by a process that is gone, without closing anything:
-- their invocation's lease expired, or it is no longer running; a run of a
-- tool before 0027 (no invocation row) when its own heartbeat is older than
-- max(10 minutes, twice its budget).
CREATE OR REPLACE FUNCTION de_enrollment_abandoned_runs()
RETURNS TABLE (run_id uuid)
LANGUAGE sql STABLE
AS $$
  SELECT r.id
  FROM de_enrollment_runs AS r
  LEFT JOIN de_enrollment_invocations AS i ON i.id = r.invocation_id
  LEFT JOIN de_enrollment_heartbeats AS h ON h.invocation_id = r.invocation_id
  WHERE r.status = 'running'
    AND CASE WHEN i.id IS NULL
             THEN r.heartbeat_at < now() - greatest(interval '10 minutes', 2 * r.budget_ms * interval '1 millisecond')
             -- no heartbeat row (written by hand, say): as old as the invocation
             ELSE i.status <> 'running'
                  OR de_enrollment_lease_expired(coalesce(h.heartbeat_at, i.started_at), i.lease_ms) END
$$;

-- Closes what dead processes left behind, and returns the runs it closed:
-- invocations whose lease expired become 'abandoned' (one whose batch is in
-- flight holds its row and is passed over: it is alive), then every run of
-- de_enrollment_abandoned_runs() becomes 'failed', error_details 'abandoned: …'.
-- (A new name: a re-run of V21, which every migration must survive, recreates
-- the old de_enrollment_close_abandoned_runs with its own result type.)
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

COMMENT ON COLUMN de_enrollment_runs.heartbeat_at IS
  'Moved by every batch of the run. Liveness is the invocation''s (de_enrollment_heartbeats); a run of a tool before 0027 is abandoned when this is older than max(10 min, 2 x budget_ms).';

-- ------------------------------------------------------------ status

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

CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 27 $$;
