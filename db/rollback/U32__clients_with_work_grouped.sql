-- Rollback of 0032: clients with work are done one by one again, each with its
-- own statements. Nothing is lost: 0032 changed and added routines only; the
-- runs and lead-log rows its groups wrote are the same as a client's own
-- batch writes.

CREATE OR REPLACE FUNCTION public.de_enrollment_apply(p_run_id uuid, p_lead_ids uuid[])
 RETURNS jsonb
 LANGUAGE plpgsql
AS $function$
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
$function$

;

CREATE OR REPLACE FUNCTION public.de_enrollment_finish_run(p_run_id uuid, p_status text, p_error text, p_peak_memory_mb integer)
 RETURNS SETOF de_enrollment_runs
 LANGUAGE plpgsql
AS $function$
BEGIN
  RETURN QUERY
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
  RETURNING r.*;
END
$function$

;

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
  v_take         integer;
  v_evaluated    integer;
  v_done         boolean;
  v_error        text;
  v_again        boolean;
  v_after_c      uuid;
  v_after_p      integer;
  v_after_l      uuid;
  v_from_c       uuid;
  v_from_p       integer;
  v_from_l       uuid;
  v_last         boolean;
  v_looked       boolean := false;
  -- the open transaction: leads it evaluated, clients it worked on
  v_tx_leads     integer := 0;
  v_tx_clients   integer := 0;
BEGIN
  LOOP
    IF v_tx_clients = 0 THEN
      -- A transaction begins. JIT off: its cost estimates make it compile these
      -- small statements for nothing (set per transaction, which a pooler allows).
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
      IF NOT v_looked THEN
        v_looked := true;
        IF v_position = 1 AND v_row_deferred = 0
           AND NOT EXISTS (SELECT 1 FROM de_enrollment_runs AS r WHERE r.invocation_id = p_invocation_id) THEN
          -- The invocation's first look (0030): every client at once, in one
          -- statement. The clients with no eligible lead get their run closed
          -- 'success' with 0 leads, come first in the list, and the row's
          -- position starts after them; the others are left for the batches.
          -- A retried first call whose look was committed finds runs: no second look.
          WITH c AS MATERIALIZED (
            SELECT u.client_id, u.run_id, u.ord,
                   EXISTS (SELECT 1 FROM de_enrollment_eligible_leads AS e WHERE e.client_id = u.client_id) AS has_work
            FROM unnest(v_client_ids, v_run_ids) WITH ORDINALITY AS u(client_id, run_id, ord)
          ),
          idle AS (
            INSERT INTO de_enrollment_runs (id, invocation_id, client_id, run_type, status, budget_ms, host, pid,
                                            finished_at, duration_ms)
            SELECT c.run_id, p_invocation_id, c.client_id, v_run_type, 'success', v_budget_ms, v_host, v_pid,
                   clock_timestamp(), greatest(0, round(extract(epoch FROM clock_timestamp() - now()) * 1000))::integer
            FROM c
            WHERE NOT c.has_work
            ORDER BY c.ord
            RETURNING 1
          )
          UPDATE de_enrollment_invocations AS i
          SET client_ids = o.client_ids, run_ids = o.run_ids, position = o.position
          FROM (SELECT array_agg(c.client_id ORDER BY c.has_work, c.ord) AS client_ids,
                       array_agg(c.run_id ORDER BY c.has_work, c.ord) AS run_ids,
                       1 + count(*) FILTER (WHERE NOT c.has_work) AS position
                FROM c) AS o
          WHERE i.id = p_invocation_id
            AND EXISTS (SELECT 1 FROM idle);
          IF FOUND THEN
            COMMIT;
            v_client_ids := NULL;
            CONTINUE;
          END IF;
        END IF;
      END IF;
    END IF;
    -- (a transaction that goes on with the next client holds the lock still,
    -- so nobody closed the invocation meanwhile; a pause waits for its COMMIT)
    v_client := v_client_ids[v_position];
    v_run := v_run_ids[v_position];
    SELECT r.status INTO v_status FROM de_enrollment_runs AS r WHERE r.id = v_run;

    IF v_status IS NULL AND v_position <= v_clients - v_deferred
       AND (NOT pg_try_advisory_xact_lock(1684366702, hashtext(v_client::text))
            OR EXISTS (SELECT 1 FROM de_enrollment_runs AS o
                       WHERE o.client_id = v_client AND o.status = 'running'
                         AND o.invocation_id IS DISTINCT FROM p_invocation_id)) THEN
      -- Another invocation is on this client (0026): it goes to the end of the
      -- list. Committed with the clients this transaction finished before it
      -- and nothing else, so the row never points at a client that a
      -- rolled-back batch had moved.
      UPDATE de_enrollment_invocations AS i
      SET client_ids = i.client_ids[:v_position - 1] || i.client_ids[v_position + 1:] || v_client,
          run_ids    = i.run_ids[:v_position - 1] || i.run_ids[v_position + 1:] || v_run,
          deferred   = i.deferred + 1,
          position   = v_position,
          after_campaign = NULL, after_position = NULL, after_lead = NULL
      WHERE i.id = p_invocation_id;
      COMMIT;
      v_tx_leads := 0;
      v_tx_clients := 0;
      v_after_c := NULL;
      v_after_p := NULL;
      v_after_l := NULL;
      CONTINUE;
    END IF;

    v_again := false;
    IF v_status IS NOT NULL AND v_status <> 'running' THEN
      -- closed by a call that then failed transiently: nothing left to do here
      v_done := true;
    ELSE
      v_error := NULL;
      v_evaluated := 0;
      v_from_c := v_after_c;
      v_from_p := v_after_p;
      v_from_l := v_after_l;
      -- what is left of this transaction's batch size
      v_take := v_batch_size - v_tx_leads;
      BEGIN
        IF v_status IS NULL THEN
          PERFORM de_enrollment_start_run(v_run, p_invocation_id, v_client, v_run_type, v_budget_ms, v_host, v_pid);
        END IF;

        WITH picked AS MATERIALIZED (
          SELECT g.lead_id, g.campaign_id, g.message_position
          FROM get_leads_for_de_enrollment(v_client, v_take, v_run, v_after_c, v_after_p, v_after_l) AS g
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
        v_done := v_evaluated < v_take;
        IF v_done THEN
          PERFORM de_enrollment_finish_run(v_run, 'success', NULL, p_peak_memory_mb);
        END IF;
      EXCEPTION
        WHEN OTHERS THEN
          IF de_enrollment_retryable(SQLSTATE) THEN
            IF v_tx_clients = 0 THEN
              RAISE;
            END IF;
            -- not this transaction's first client: commit the ones before it,
            -- then try it again as the first (its batch was rolled back)
            v_again := true;
          ELSE
            v_error := left(SQLSTATE || ': ' || SQLERRM, 2000);
          END IF;
      END;
      IF v_again THEN
        v_done := false;
        v_evaluated := 0;
        v_after_c := v_from_c;
        v_after_p := v_from_p;
        v_after_l := v_from_l;
      ELSIF v_error IS NOT NULL THEN
        -- the failed batch took its run row with it when it was the first
        PERFORM de_enrollment_start_run(v_run, p_invocation_id, v_client, v_run_type, v_budget_ms, v_host, v_pid);
        PERFORM de_enrollment_finish_run(v_run, 'failed', v_error, p_peak_memory_mb);
        v_evaluated := 0;
        v_done := true;
      END IF;
      IF NOT v_again THEN
        v_tx_leads := v_tx_leads + v_evaluated;
        v_tx_clients := v_tx_clients + 1;
      END IF;
    END IF;

    IF v_done THEN
      v_position := v_position + 1;
      v_after_c := NULL;
      v_after_p := NULL;
      v_after_l := NULL;
    END IF;
    v_last := v_position > v_clients OR clock_timestamp() >= v_slice_end;
    -- a client whose walk goes on (its batch took all that was left) has the next transaction
    IF v_last OR v_again OR NOT v_done OR v_tx_leads >= v_batch_size OR v_tx_clients >= 30 THEN
      IF v_last THEN
        -- the call's last transaction leaves where it stands in the row, for the next call
        UPDATE de_enrollment_invocations AS i
        SET position = v_position, after_campaign = v_after_c, after_position = v_after_p, after_lead = v_after_l
        WHERE i.id = p_invocation_id
          AND i.position <= v_position;
      END IF;
      COMMIT;
      v_tx_leads := 0;
      v_tx_clients := 0;
      EXIT WHEN v_last;
    END IF;
  END LOOP;
  io_state := CASE WHEN v_position > v_clients THEN 'done' ELSE 'working' END;
END
$procedure$

;

DROP FUNCTION IF EXISTS de_enrollment_apply_runs(uuid[], uuid[]);
DROP FUNCTION IF EXISTS de_enrollment_finish_runs(uuid[], text, text, integer);
DROP FUNCTION IF EXISTS de_enrollment_client_taken(uuid, uuid);

CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 31 $$;

DO $$ BEGIN RAISE NOTICE 'rolled back 0032 (clients with work grouped)'; END $$;
