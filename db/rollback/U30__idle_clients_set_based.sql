-- Rollback of 0030: every client has a transaction of its own again, the idle
-- ones included, and every run is started and closed by a batch of its own.
-- Nothing is lost: 0030 added an index and changed routines only; the runs an
-- invocation's first look closed stay as they are ('success', 0 leads, 0 batches).

DROP INDEX IF EXISTS de_enrollment_runs_client_running_idx;

CREATE OR REPLACE FUNCTION public.de_enrollment_finish_run(p_run_id uuid, p_status text, p_error text, p_peak_memory_mb integer)
 RETURNS SETOF de_enrollment_runs
 LANGUAGE sql
AS $function$
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
$function$;

CREATE OR REPLACE PROCEDURE public.de_enrollment_run_invocation(IN p_invocation_id uuid, IN p_slice_ms integer, IN p_peak_memory_mb integer, INOUT io_state text)
 LANGUAGE plpgsql
AS $procedure$
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
$procedure$;

CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 29 $$;

DO $$ BEGIN RAISE NOTICE 'rolled back 0030 (idle clients set-based)'; END $$;
