-- Rollback of 0027: the invocation goes back to living in the JVM, with a
-- session advisory lock for liveness (0026's de_enrollment_run_clients).
-- Drops the invocation, heartbeat and pause tables (their history goes with
-- them) and restores the 0024-0026 definitions of what 0027 replaced.
-- A deenroll that needs 0027 refuses this database afterwards; run the
-- previous release's jar.
DROP VIEW IF EXISTS de_enrollment_live_invocations;
DROP PROCEDURE IF EXISTS de_enrollment_run_invocation(uuid, integer, integer, text);
DROP FUNCTION IF EXISTS de_enrollment_finish_invocation(uuid, text, integer);
DROP FUNCTION IF EXISTS de_enrollment_fail_in_flight(uuid, text, integer);
DROP FUNCTION IF EXISTS de_enrollment_heartbeat(uuid);
DROP FUNCTION IF EXISTS de_enrollment_begin_invocation(uuid, text, integer, text, integer, integer, integer, boolean, uuid);
DROP FUNCTION IF EXISTS de_enrollment_clients_to_run(uuid);
DROP FUNCTION IF EXISTS de_enrollment_resume(text);
DROP FUNCTION IF EXISTS de_enrollment_pause(text, text);
DROP FUNCTION IF EXISTS de_enrollment_current_pause();
DROP FUNCTION IF EXISTS de_enrollment_close_abandoned_invocations();
DROP FUNCTION IF EXISTS de_enrollment_abandoned_runs();
DROP FUNCTION IF EXISTS de_enrollment_lease_expired(timestamptz, integer);
DROP TABLE IF EXISTS de_enrollment_heartbeats;
DROP TABLE IF EXISTS de_enrollment_invocations;
DROP TABLE IF EXISTS de_enrollment_pauses;

CREATE OR REPLACE FUNCTION de_enrollment_run_lock_key(p_run_id uuid)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT hashtextextended('deenroll-run:' || p_run_id::text, 0) $$;

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

DROP FUNCTION IF EXISTS de_enrollment_retryable(text);

CREATE PROCEDURE de_enrollment_run_clients(
  p_invocation_id uuid, INOUT io_client_ids uuid[], INOUT io_run_ids uuid[], p_run_type text, p_budget_ms integer,
  p_host text, p_pid integer, p_peak_memory_mb integer, p_batch_size integer, p_slice_ms integer,
  INOUT io_position integer, INOUT io_deferred integer,
  INOUT io_after_campaign uuid, INOUT io_after_position integer, INOUT io_after_lead uuid)
LANGUAGE plpgsql
AS $$
DECLARE
  v_slice_end timestamptz := clock_timestamp() + greatest(p_slice_ms, 0) * interval '1 millisecond';
  v_clients   integer := coalesce(cardinality(io_client_ids), 0);
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
  IF v_clients <> coalesce(cardinality(io_run_ids), 0) THEN
    RAISE EXCEPTION '% client(s) but % run id(s)', v_clients, coalesce(cardinality(io_run_ids), 0)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  io_position := greatest(coalesce(io_position, 1), 1);
  io_deferred := least(greatest(coalesce(io_deferred, 0), 0), v_clients);

  WHILE io_position <= v_clients LOOP
    v_client := io_client_ids[io_position];
    v_run := io_run_ids[io_position];
    SELECT r.status INTO v_status FROM de_enrollment_runs AS r WHERE r.id = v_run;
    IF v_status IS NULL AND io_position <= v_clients - io_deferred THEN
      -- About to start this client. If another invocation is working on it,
      -- leave it for the end of the list: by then that runner has usually
      -- finished it, and meanwhile the two work on different campaigns instead
      -- of queueing on the same campaign rows. "Working on it": its run row is
      -- 'running', or it is being started right now, which the lock tells: a
      -- runner that starts a client holds it until its first batch has
      -- committed the run row. Only tried, never waited for, so no runner
      -- waits for another here. (Two int keys, 'deen' and the client: a space
      -- apart from the runs' bigint keys.)
      IF NOT pg_try_advisory_xact_lock(1684366702, hashtext(v_client::text))
         OR EXISTS (SELECT 1 FROM de_enrollment_runs AS o
                    WHERE o.client_id = v_client AND o.status = 'running'
                      AND o.invocation_id IS DISTINCT FROM p_invocation_id) THEN
        io_client_ids := io_client_ids[:io_position - 1] || io_client_ids[io_position + 1:] || v_client;
        io_run_ids := io_run_ids[:io_position - 1] || io_run_ids[io_position + 1:] || v_run;
        io_deferred := io_deferred + 1;
        CONTINUE;
      END IF;
    END IF;
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

COMMENT ON COLUMN de_enrollment_runs.heartbeat_at IS
  'Moved by every batch. A running row is abandoned when its process no longer holds de_enrollment_run_lock_key(invocation_id), or its heartbeat is older than max(10 min, 2 x budget_ms).';

CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 26 $$;
