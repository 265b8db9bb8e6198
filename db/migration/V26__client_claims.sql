-- 0026 runners started together take different clients.
--
-- Every runner lists the active clients least recently run first, so runners
-- started together started on the same client, split its batches and moved on
-- together, their batches queueing on the same campaign rows' locks (every
-- batch updates its campaigns' counters). de_enrollment_run_clients now leaves
-- a client that another invocation is working on for the end of its list, and
-- returns the list in the order it ends up in (io_client_ids, io_run_ids; the
-- last io_deferred of them were moved there). It moves a client at most once:
-- at the end it works on it like on any other, so a runner never waits for
-- another and every client still gets its run in every invocation; when the
-- other runner is done, that run finds nothing left. Nothing else changes:
-- which leads a batch takes (SKIP LOCKED), the batch, the counters.
--
-- The procedure's arguments change (the arrays are returned), so it is
-- dropped and created again. Needs PostgreSQL 12+. Idempotent.

DROP PROCEDURE IF EXISTS de_enrollment_run_clients(uuid, uuid[], uuid[], text, integer, text, integer, integer, integer,
  integer, integer, uuid, integer, uuid);
DROP PROCEDURE IF EXISTS de_enrollment_run_clients(uuid, uuid[], uuid[], text, integer, text, integer, integer, integer,
  integer, integer, integer, uuid, integer, uuid);

-- The runs of one invocation, client after client, batch after batch, for up
-- to p_slice_ms: io_client_ids[i] is worked on under run id io_run_ids[i]. Each
-- batch is one transaction, COMMITted before the next, exactly as when the
-- client sent them one by one; a client's run row is inserted in its first
-- batch's transaction and closed in its last one (de_enrollment_finish_run).
-- Where to start, and where the call stopped: io_position (1-based index of
-- the client to work on) and io_after_* (where that client's walk resumes;
-- NULL: from the top). io_position > cardinality(io_client_ids) means every
-- client is done. io_deferred: how many clients, at the end of the arrays,
-- were moved there already (start with 0; pass back what the call returned). At least one batch runs per call, so every call progresses.
-- Between calls the caller checks its budget and stop requests.
-- One client's failure never stops the next: a batch that raises a
-- non-transient error is rolled back and its run closed as 'failed' with the
-- error. Transient errors (serialization, deadlock, cancel/timeout, lock
-- timeout, shutdown) end the call for the caller to retry it from where it
-- last knew; runs closed in the meantime are skipped, so a retry redoes nothing.
-- Must be CALLed outside a transaction block (it commits).
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

CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 26 $$;
