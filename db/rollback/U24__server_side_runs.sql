-- Rollback of 0024: the batches go back to being sent one by one by the
-- client, with one advisory lock per run. Restores the 0021 definitions of the
-- functions 0024 replaced and drops what it added. A deenroll that needs 0024
-- refuses this database afterwards; run the previous release's jar.
DROP PROCEDURE IF EXISTS de_enrollment_run_clients(uuid, uuid[], uuid[], text, integer, text, integer, integer, integer,
  integer, integer, uuid, integer, uuid);
DROP FUNCTION IF EXISTS de_enrollment_finish_run(uuid, text, text, integer);
DROP FUNCTION IF EXISTS de_enrollment_start_run(uuid, uuid, uuid, text, integer, text, integer);
CREATE INDEX IF NOT EXISTS de_enrollment_lead_log_run_idx ON de_enrollment_lead_log (run_id, lead_id);
DROP INDEX IF EXISTS de_enrollment_lead_log_run_errors_idx;

-- back to LANGUAGE sql (CREATE OR REPLACE may change the language; grants stay)
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

COMMENT ON COLUMN de_enrollment_runs.heartbeat_at IS
  'Moved by every batch. A running row is abandoned when its process no longer holds de_enrollment_run_lock_key(id), or its heartbeat is older than max(10 min, 2 x budget_ms).';

CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 23 $$;
DO $$ BEGIN RAISE NOTICE 'rolled back 0024 (server-side runs)'; END $$;
