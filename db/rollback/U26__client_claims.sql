-- Rollback of 0026: de_enrollment_run_clients goes back to 0024's, which walks
-- the clients in the order given. A deenroll that needs 0026 refuses this
-- database afterwards; run the previous release's jar.
DROP PROCEDURE IF EXISTS de_enrollment_run_clients(uuid, uuid[], uuid[], text, integer, text, integer, integer, integer,
  integer, integer, integer, uuid, integer, uuid);

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

CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 25 $$;
