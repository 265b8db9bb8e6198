-- 0025 the lead log is found by time, not by lead.
--
-- de_enrollment_lead_log_lead_idx (0021) took one entry per de-enrolled lead,
-- at a random place in the index (lead ids are random UUIDs): about 6 % of the
-- database's work in a pass (docs/performance.md, "The lead log's lead index"),
-- on every pass, for one rare look-up: the log rows of one lead, for
-- `deenroll report lead`. That look-up needs no index of its own. A lead's
-- de_enrolled rows were written in the transaction that de-enrolled it, so
-- their processed_at is the now() that the same transaction wrote into the
-- lead's completed_at and into its history entry's completedAt; those times
-- lead to the rows through de_enrollment_lead_log_processed_idx. Its error
-- rows are in the partial error index (0024). de_enrollment_lead_log_of(lead)
-- is that look-up, for the report and for operators in psql.
--
-- Needs PostgreSQL 12+. Idempotent.

DROP INDEX IF EXISTS de_enrollment_lead_log_lead_idx;

-- A lead's rows in the lead log, oldest first: those at the times it was
-- de-enrolled (its completed_at, and the completedAt of each history entry,
-- which survive a later re-enrolment), and its error rows. A history entry
-- whose completedAt is not a time (written by hand or by another tool) is
-- passed over. A lead whose history the host rewrote can still be looked up
-- with `WHERE lead_id = …`, which reads the whole lead log.
CREATE OR REPLACE FUNCTION de_enrollment_lead_log_of(p_lead_id uuid)
RETURNS SETOF de_enrollment_lead_log
LANGUAGE plpgsql STABLE
AS $fn$
DECLARE
  v_times timestamptz[];
  v_text  text;
BEGIN
  SELECT array_remove(ARRAY[l.completed_at], NULL) INTO v_times FROM leads AS l WHERE l.id = p_lead_id;
  FOR v_text IN
    SELECT e ->> 'completedAt'
    FROM leads AS l,
         jsonb_array_elements(CASE WHEN jsonb_typeof(l.campaign_history) = 'array'
                                   THEN l.campaign_history ELSE '[]'::jsonb END) AS h(e)
    WHERE l.id = p_lead_id
  LOOP
    BEGIN
      v_times := v_times || v_text::timestamptz;
    EXCEPTION WHEN data_exception THEN
      NULL;   -- not a time: no row of ours was written then
    END;
  END LOOP;

  -- two look-ups, each in its own index (one OR of both reads the whole log)
  RETURN QUERY
  SELECT g.*
  FROM (SELECT * FROM de_enrollment_lead_log AS d
        WHERE d.processed_at = ANY (coalesce(v_times, '{}')) AND d.lead_id = p_lead_id AND d.action <> 'error'
        UNION ALL
        SELECT * FROM de_enrollment_lead_log AS e
        WHERE e.action = 'error' AND e.lead_id = p_lead_id) AS g
  ORDER BY g.processed_at, g.id;
END
$fn$;

CREATE OR REPLACE FUNCTION de_enrollment_schema_version()
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 25 $$;
