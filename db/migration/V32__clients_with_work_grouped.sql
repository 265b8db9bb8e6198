-- 0032 a client with a handful of leads costs next to nothing too.
--
-- Since 0030 an idle client costs nothing of its own, but a client with work
-- still had its own statements in the batch loop: its claim, its run row
-- inserted, its walk, its campaigns locked, its leads applied (and the apply
-- planned again on every call), its counters, its run closed: about 1.3 ms of
-- server time a client, so a pass over 2,000 clients of which 770 had one or
-- two finished leads spent 0.9 s in the procedure. Now:
--   * a transaction that comes to a fresh client (no run, no cursor) first
--     gathers a group: that client and the next ones, in list order, while
--     each is claimed (de_enrollment_client_taken, which the deferral of one
--     client asks too), has
--     no run row yet, and has fewer eligible leads than the room left of the
--     batch size (counted up to the room: a client with as many has a walk of
--     its own), up to 30 clients;
--   * a group of two or more is done with one statement per step for all of
--     its clients: their walks (get_leads_for_de_enrollment per client, each
--     given the room left before it), their run rows inserted, their
--     campaigns locked in id order, their leads applied with one statement
--     (de_enrollment_apply_runs: each lead with its client's run), their
--     counters, their runs closed (de_enrollment_finish_runs). A client whose
--     walk took all the room it was given (its leads grew since they were
--     counted) ends the group: its walk goes on in the next transaction, and
--     the clients after it are not part of this one;
--   * the group is one subtransaction. Whatever it raises (a host trigger on
--     one lead, a conflict, a cancel) rolls the group back and the same
--     transaction goes on client by client from the group's first client, as
--     before 0032, which rolls back only the client that fails and raises a
--     conflict with that client in flight. A cancel that no client meets again
--     came from outside (the CALL's statement timeout, pg_cancel_backend): it
--     is raised right after that transaction's COMMIT, so it still reaches the
--     caller, one transaction late;
--   * de_enrollment_apply is de_enrollment_apply_runs for one run, and
--     de_enrollment_finish_run de_enrollment_finish_runs for one run: one
--     definition each of what de-enrolling a lead writes and of closing a run.
--     The apply keeps one generic plan (it was planned again on every call:
--     0.3 ms a batch).
-- Needs PostgreSQL 12+. Idempotent. Rollback: db/rollback/U32__clients_with_work_grouped.sql.

-- Each lead of p_lead_ids with the run of the same position in p_run_ids: the
-- lead is de-enrolled if it is still eligible (re-checked in the UPDATE, so a
-- lead that changed since it was picked is skipped), logged under its run,
-- and its campaign's counters moved. Returns {outcome: count} per run that
-- de-enrolled any lead.
CREATE OR REPLACE FUNCTION de_enrollment_apply_runs(p_run_ids uuid[], p_lead_ids uuid[])
RETURNS TABLE (run_id uuid, by_outcome jsonb)
LANGUAGE plpgsql VOLATILE
SET plan_cache_mode = force_generic_plan
AS $fn$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH m AS (
    SELECT u.run_id, u.lead_id FROM unnest(p_run_ids, p_lead_ids) AS u(run_id, lead_id)
  ),
  upd AS (
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
    FROM m, campaigns AS c
    WHERE l.id = m.lead_id
      AND c.id = l.campaign_link_id
      AND de_enrollment_is_eligible(l.is_active, l.completed_at, l.current_message_position,
                                    de_enrollment_sequence_length(c.messages))
    RETURNING m.run_id, l.id, l.client_id, l.campaign_link_id, l.opted_out,
              l.current_message_position AS messages_received,
              de_enrollment_outcome(l.booked, l.opted_out) AS outcome
  ),
  lead_log AS (
    INSERT INTO de_enrollment_lead_log
           (run_id, lead_id, client_id, campaign_id, action, outcome, messages_received)
    SELECT u.run_id, u.id, u.client_id, u.campaign_link_id, 'de_enrolled', u.outcome, u.messages_received
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
  SELECT o.run_id, jsonb_object_agg(o.outcome, o.n)
  FROM (SELECT u.run_id, u.outcome, count(*) AS n FROM upd AS u GROUP BY u.run_id, u.outcome) AS o
  GROUP BY o.run_id;
END
$fn$;

-- One run's batch (process_de_enrollment_batch, lead by lead after a failure).
CREATE OR REPLACE FUNCTION de_enrollment_apply(p_run_id uuid, p_lead_ids uuid[])
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $fn$
DECLARE
  v_by_outcome jsonb;
BEGIN
  SELECT a.by_outcome INTO v_by_outcome
  FROM de_enrollment_apply_runs(array_fill(p_run_id, ARRAY[coalesce(cardinality(p_lead_ids), 0)]), p_lead_ids) AS a;
  RETURN coalesce(v_by_outcome, '{}'::jsonb);
END
$fn$;

-- Closes runs. A run is never closed twice (the abandoned-run check, or a call
-- that failed after closing it, may have closed it already). A run that
-- attempted leads and de-enrolled none because every one it tried failed is
-- 'failed', whatever the caller asked (0028). Every run that was started ends
-- here (an idle client's run is inserted closed by the first look, 0030).
CREATE OR REPLACE FUNCTION de_enrollment_finish_runs(p_run_ids uuid[], p_status text, p_error text,
                                                     p_peak_memory_mb integer)
RETURNS SETOF de_enrollment_runs
LANGUAGE plpgsql VOLATILE
AS $$
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
  WHERE r.id IN (SELECT unnest(p_run_ids))
    AND r.status = 'running'
  RETURNING r.*;
END
$$;

CREATE OR REPLACE FUNCTION de_enrollment_finish_run(p_run_id uuid, p_status text, p_error text,
                                                    p_peak_memory_mb integer)
RETURNS SETOF de_enrollment_runs
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
  RETURN QUERY SELECT * FROM de_enrollment_finish_runs(ARRAY[p_run_id], p_status, p_error, p_peak_memory_mb);
END
$$;

-- Whether another invocation is on the client (0026): it has a running run of
-- it, or it holds the client's claim, the transaction-level advisory lock a
-- runner takes while it starts the client (only ever tried). A client that is
-- free is claimed by the calling transaction. One definition for the deferral
-- and for the groups (0032).
CREATE OR REPLACE FUNCTION de_enrollment_client_taken(p_client_id uuid, p_invocation_id uuid)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
  RETURN NOT pg_try_advisory_xact_lock(1684366702, hashtext(p_client_id::text))
         OR EXISTS (SELECT 1 FROM de_enrollment_runs AS o
                    WHERE o.client_id = p_client_id AND o.status = 'running'
                      AND o.invocation_id IS DISTINCT FROM p_invocation_id);
END
$$;

-- The batch loop of one invocation: from where its row says, client after
-- client, for up to p_slice_ms (at least one transaction). Its first call
-- closes the runs of the clients with nothing to do, all at once (0030); a
-- transaction that starts with a fresh client does it together with the next
-- clients that have a handful of leads each, one statement per step (0032).
-- Each transaction
-- holds the invocation's lock: it finds the client in flight, takes that
-- client's next batch, and, when that client's walk ended with room left
-- (fewer than batch_size leads evaluated in this transaction, fewer than 30
-- clients), goes on with the next client before it commits (0030). The
-- invocation's row is written by the call's last transaction (position and
-- cursor) and by a deferral. A client's run row is inserted in its first
-- batch and closed in its last one. One client's failure never stops the
-- next: a client's batch is a subtransaction, and one that raises a
-- non-retryable error is rolled back and its run closed 'failed' with the
-- error. A retryable error ends the call; calling again resumes.
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
  v_take         integer;
  v_evaluated    integer;
  v_done         boolean;
  v_error        text;
  v_again        boolean;
  v_cancel       text;
  v_cancel_late  text;
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
  -- a group of clients (0032): their ids, runs, the room each is given, the leads picked
  v_grouped      boolean;
  v_group_off    boolean := false;
  v_g_clients    uuid[];
  v_g_runs       uuid[];
  v_g_takes      integer[];
  v_room         integer;
  v_count        integer;
  v_j            integer;
  v_n            integer;
  v_cut          integer;
  v_p_leads      uuid[];
  v_p_runs       uuid[];
  v_p_campaigns  uuid[];
  v_a_runs       uuid[];
  v_a_outcomes   jsonb[];
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
       AND de_enrollment_client_taken(v_client, p_invocation_id) THEN
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
      v_group_off := false;
      v_after_c := NULL;
      v_after_p := NULL;
      v_after_l := NULL;
      IF v_cancel_late IS NOT NULL THEN
        RAISE EXCEPTION '%', v_cancel_late USING ERRCODE = 'query_canceled';
      END IF;
      CONTINUE;
    END IF;

    v_again := false;
    v_grouped := false;
    IF v_status IS NULL AND v_after_c IS NULL AND v_tx_clients < 29 AND NOT v_group_off THEN
      -- The group (0032): this client (claimed above) and the next ones while
      -- each is claimed, has no run yet and fewer eligible leads than the room
      -- left of the transaction's batch size (counted up to the room), up to
      -- the transaction's 30 clients.
      v_g_clients := '{}';
      v_g_runs := '{}';
      v_g_takes := '{}';
      v_room := v_batch_size - v_tx_leads;
      v_j := v_position;
      LOOP
        EXIT WHEN v_j > v_clients - v_deferred OR cardinality(v_g_clients) >= 30 - v_tx_clients;
        IF v_j > v_position THEN
          EXIT WHEN EXISTS (SELECT 1 FROM de_enrollment_runs AS r WHERE r.id = v_run_ids[v_j]);
          EXIT WHEN de_enrollment_client_taken(v_client_ids[v_j], p_invocation_id);
        END IF;
        SELECT count(*)::integer INTO v_count
        FROM (SELECT 1 FROM de_enrollment_eligible_leads AS e WHERE e.client_id = v_client_ids[v_j] LIMIT v_room) AS s;
        EXIT WHEN v_count >= v_room;
        v_g_clients := v_g_clients || v_client_ids[v_j];
        v_g_runs := v_g_runs || v_run_ids[v_j];
        v_g_takes := v_g_takes || v_room;
        v_room := v_room - v_count;
        v_j := v_j + 1;
      END LOOP;
      IF cardinality(v_g_clients) >= 2 THEN
        BEGIN
          -- every client's walk, each given the room left before it; the first
          -- client whose walk took all of its room (v_cut) is the group's last
          WITH x AS MATERIALIZED (
            SELECT g.ord::integer AS ord, g.take, g.run_id, p.lead_id, p.campaign_id, p.message_position
            FROM unnest(v_g_clients, v_g_runs, v_g_takes) WITH ORDINALITY AS g(client_id, run_id, take, ord)
            CROSS JOIN LATERAL get_leads_for_de_enrollment(g.client_id, g.take, g.run_id) AS p
          ),
          cut AS (
            SELECT min(c.ord) AS ord
            FROM (SELECT x.ord, x.take, count(*) AS n FROM x GROUP BY x.ord, x.take) AS c
            WHERE c.n >= c.take
          ),
          inc AS (
            SELECT x.* FROM x, cut WHERE cut.ord IS NULL OR x.ord <= cut.ord
          )
          SELECT cut.ord,
                 (SELECT array_agg(i.lead_id ORDER BY i.ord, i.campaign_id, i.message_position, i.lead_id) FROM inc AS i),
                 (SELECT array_agg(i.run_id ORDER BY i.ord, i.campaign_id, i.message_position, i.lead_id) FROM inc AS i),
                 (SELECT array_agg(DISTINCT i.campaign_id) FROM inc AS i),
                 last.campaign_id, last.message_position, last.lead_id
          INTO v_cut, v_p_leads, v_p_runs, v_p_campaigns, v_after_c, v_after_p, v_after_l
          FROM cut
          LEFT JOIN LATERAL (SELECT x.campaign_id, x.message_position, x.lead_id
                             FROM x WHERE x.ord = cut.ord
                             ORDER BY x.campaign_id DESC, x.message_position DESC, x.lead_id DESC
                             LIMIT 1) AS last ON true;
          v_n := coalesce(v_cut, cardinality(v_g_clients));
          v_p_leads := coalesce(v_p_leads, '{}');
          v_p_runs := coalesce(v_p_runs, '{}');

          INSERT INTO de_enrollment_runs (id, invocation_id, client_id, run_type, status, budget_ms, host, pid)
          SELECT u.run_id, p_invocation_id, u.client_id, v_run_type, 'running', v_budget_ms, v_host, v_pid
          FROM unnest(v_g_runs[1:v_n], v_g_clients[1:v_n]) AS u(run_id, client_id);
          -- in id order, as process_de_enrollment_batch locks them
          PERFORM 1 FROM campaigns WHERE id IN (SELECT unnest(v_p_campaigns)) ORDER BY id FOR NO KEY UPDATE;
          SELECT array_agg(a.run_id), array_agg(a.by_outcome)
          INTO v_a_runs, v_a_outcomes
          FROM de_enrollment_apply_runs(v_p_runs, v_p_leads) AS a;
          -- each run's batch, counted as process_de_enrollment_batch counts one
          UPDATE de_enrollment_runs AS r
          SET leads_evaluated   = r.leads_evaluated + s.evaluated,
              leads_de_enrolled = r.leads_de_enrolled + s.de_enrolled,
              leads_skipped     = r.leads_skipped + s.evaluated - s.de_enrolled,
              by_outcome        = de_enrollment_add_counts(r.by_outcome, s.by_outcome),
              batches           = r.batches + 1
          FROM (SELECT u.run_id,
                       (SELECT count(*) FROM unnest(v_p_runs) AS p(run_id) WHERE p.run_id = u.run_id)::integer AS evaluated,
                       coalesce(a.by_outcome, '{}'::jsonb) AS by_outcome,
                       coalesce((SELECT sum(o.value::integer) FROM jsonb_each_text(a.by_outcome) AS o), 0)::integer
                         AS de_enrolled
                FROM unnest(v_g_runs[1:v_n]) AS u(run_id)
                LEFT JOIN unnest(v_a_runs, v_a_outcomes) AS a(run_id, by_outcome) ON a.run_id = u.run_id) AS s
          WHERE r.id = s.run_id
            AND r.status = 'running';
          GET DIAGNOSTICS v_count = ROW_COUNT;
          IF v_count <> v_n THEN
            RAISE EXCEPTION 'a group of % runs found % of them running', v_n, v_count
              USING ERRCODE = 'object_not_in_prerequisite_state';
          END IF;
          -- the clients before the cut are done; the cut one's walk goes on in the next transaction
          PERFORM de_enrollment_finish_runs(v_g_runs[1:CASE WHEN v_cut IS NULL THEN v_n ELSE v_n - 1 END],
                                            'success', NULL, p_peak_memory_mb);
          v_grouped := true;
          v_done := v_cut IS NULL;
          v_tx_leads := v_tx_leads + cardinality(v_p_leads);
          v_tx_clients := v_tx_clients + v_n;
          -- the group's last client: done, or the one in flight
          v_position := v_position + v_n - 1;
        EXCEPTION
          WHEN OTHERS OR query_canceled THEN
            -- rolled back whole: this transaction goes on client by client, which
            -- rolls back only the client that fails and raises with it in flight.
            -- A cancel that none of them meets again came from outside (a
            -- statement timeout, pg_cancel_backend): raised once they are committed
            IF SQLSTATE = '57014' THEN
              v_cancel_late := SQLERRM;
            END IF;
            v_group_off := true;
            v_after_c := NULL;
            v_after_p := NULL;
            v_after_l := NULL;
        END;
      END IF;
    END IF;

    IF v_grouped THEN
      NULL;
    ELSIF v_status IS NOT NULL AND v_status <> 'running' THEN

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
        WHEN query_canceled THEN
          -- OTHERS does not catch a cancel (a statement timeout, a host trigger's
          -- 57014, pg_cancel_backend): caught here only so that the clients
          -- before it in this transaction are committed first; raised again
          -- right after, so the caller still sees the cancel, with its client
          -- the one in flight
          IF v_tx_clients = 0 THEN
            RAISE;
          END IF;
          v_again := true;
          v_cancel := SQLERRM;
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
      v_group_off := false;
      IF coalesce(v_cancel, v_cancel_late) IS NOT NULL THEN
        RAISE EXCEPTION '%', coalesce(v_cancel, v_cancel_late) USING ERRCODE = 'query_canceled';
      END IF;
      EXIT WHEN v_last;
    END IF;
  END LOOP;
  io_state := CASE WHEN v_position > v_clients THEN 'done' ELSE 'working' END;
END
$$;

CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 32 $$;
