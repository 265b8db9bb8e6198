-- schema-floor.sql: host schema + a STAND-IN for the tool's migrations 0019-0021.
-- Used only for the floor measurement (bench/README.md). The real tool's
-- migrations may differ in index names, constraints and extra indexes; gen.sql
-- and floor*.sql rely only on the column/table names below.
--
-- Run from anywhere:  psql -v ON_ERROR_STOP=1 -d DB -f bench/schema-floor.sql
-- (\ir resolves the host schema, src/main/resources/host-schema.sql, relative to this file.)
-- PostgreSQL 12+ (no gen_random_uuid(), no PG13+ syntax).

\ir ../src/main/resources/host-schema.sql

-- ---- stand-in for the tool's migrations -----------------------------------
ALTER TABLE leads
  ADD COLUMN completed_at     timestamptz,
  ADD COLUMN campaign_history jsonb NOT NULL DEFAULT '[]'::jsonb;

ALTER TABLE campaigns
  ADD COLUMN is_active             boolean NOT NULL DEFAULT true,
  ADD COLUMN active_leads_count    integer NOT NULL DEFAULT 0,
  ADD COLUMN completed_leads_count integer NOT NULL DEFAULT 0,
  ADD COLUMN opted_out_count       integer NOT NULL DEFAULT 0,
  ADD COLUMN booked_count          integer NOT NULL DEFAULT 0,
  ADD COLUMN deactivated_at        timestamptz,
  ADD COLUMN last_enrollment_at    timestamptz,
  ADD COLUMN auto_discovered       boolean NOT NULL DEFAULT false;

CREATE TABLE de_enrollment_runs (
  id                 uuid PRIMARY KEY,
  client_id          uuid,
  run_at             timestamptz NOT NULL DEFAULT now(),
  run_type           text,
  status             text,
  leads_evaluated    integer NOT NULL DEFAULT 0,
  leads_de_enrolled  integer NOT NULL DEFAULT 0,
  leads_skipped      integer NOT NULL DEFAULT 0,
  by_outcome         jsonb,
  duration_ms        integer,
  error_details      text
);

CREATE TABLE de_enrollment_lead_log (
  id                 bigserial PRIMARY KEY,
  run_id             uuid,
  lead_id            uuid,
  client_id          uuid,
  campaign_id        uuid,
  action             text,
  outcome            text,
  messages_received  integer,
  error_message      text,
  processed_at       timestamptz NOT NULL DEFAULT now()
);

-- Deliberately NO extra index on leads here: the floor is measured both
-- without and with the eligibility index (see bench/index-eligibility.sql).
