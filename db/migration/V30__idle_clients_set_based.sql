-- 0030 a client with nothing to do costs next to nothing.
--
-- Until 0029 every client of an invocation had a transaction of its own: its
-- run inserted, one batch (its walk, empty or short), its run closed, COMMIT.
-- An idle pass (most clients with nothing, the others with a handful of leads)
-- paid about 2 ms a client, most of it the COMMIT's WAL flush, so it grew with
-- the number of clients (0.85 s at 200 clients, 4.6 s at 2,000):
--   * the first call of an invocation looks at every client once, in one
--     statement (EXISTS over de_enrollment_eligible_leads: per campaign one
--     probe of leads_de_enrollment_pending_idx), and inserts the runs of the
--     clients with no eligible lead already closed, 'success', 0 leads and
--     0 batches, in one INSERT ... SELECT, committed with one write of the
--     invocation's row: those clients come first in client_ids (they are done
--     first) and the row's position starts after them, so the batch loop never
--     sees them. Every active client still has a run row in every invocation.
--   * the batch loop fills a transaction with the short walks of several
--     clients: after a client's walk ended it goes on with the next client in
--     the same transaction while the transaction has evaluated fewer than
--     batch_size leads (the operator's size of a transaction stays the limit)
--     and worked on fewer than 30 clients (two subtransactions a client, under
--     the 64 a backend caches: more would slow every other session's snapshots).
--     Each client's batch is still its own subtransaction, so a failing client
--     is rolled back alone and closed 'failed'. A retryable error in a client
--     that is not the transaction's first commits the clients before it first
--     and tries it again as the first, so the client in flight is the one that
--     raised when the error reaches the caller. A cancel (57014: a statement
--     timeout, a host trigger's), which PL/pgSQL's OTHERS does not catch, is
--     caught for the same reason: the clients before it are committed, then it
--     is raised again at once.
--   * a deferral's look for another invocation's running run of the client
--     reads a partial index of running runs by client, not the client's whole
--     run history (de_enrollment_runs_client_idx).
--   * de_enrollment_finish_run is PL/pgSQL: a SQL function returning SETOF is
--     planned again on every call.
-- Needs PostgreSQL 12+. Idempotent. Rollback: db/rollback/U30__idle_clients_set_based.sql.

CREATE INDEX IF NOT EXISTS de_enrollment_runs_client_running_idx
  ON de_enrollment_runs (client_id) WHERE status = 'running';

-- Closing a run never overwrites one that is closed already (by the
-- abandoned-run check, or a call that failed after closing it). A run that
-- attempted leads and de-enrolled none because every one it tried failed is
-- 'failed', whatever the caller asked (0028). PL/pgSQL since 0030, so its
-- plan is kept for the session.
CREATE OR REPLACE FUNCTION de_enrollment_finish_run(p_run_id uuid, p_status text, p_error text,
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
  WHERE r.id = p_run_id
    AND r.status = 'running'
  RETURNING r.*;
END
$$;

-- The batch loop of one invocation: from where its row says, client after
-- client, for up to p_slice_ms (at least one transaction). Its first call
-- closes the runs of the clients with nothing to do, all at once (0030).
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
      IF v_cancel IS NOT NULL THEN
        RAISE EXCEPTION '%', v_cancel USING ERRCODE = 'query_canceled';
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
AS $$ SELECT 30 $$;
