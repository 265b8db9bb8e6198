#!/usr/bin/env bash
# bench/ops.sh DB [REPS] : the operator commands on a database with months of
# run history (gen.sql + gen-history.sql), each timed as a whole process
# through the launcher: wall seconds and peak RSS (/usr/bin/time %e %M).
#
#   DB     a database built as bench/README.md says ("History at scale")
#   REPS   runs of each read-only command (default 3); the lines are printed
#          as they come, one per run: command, seconds, KB, exit code
#
# The read-only commands run against DB itself: health-check, status,
# report daily, report weekly, verify (health-check and status also close
# abandoned runs, of which the generated history has none). cleanup changes the
# data, so it runs once, with its defaults, on a fresh copy of DB
# (CREATE DATABASE ... TEMPLATE DB), which is dropped afterwards.
#
# env  PGHOST PGPORT PGUSER   default 127.0.0.1 / 5602 / postgres
# Needs PostgreSQL 15+ (the copy is STRATEGY = FILE_COPY), psql, java 17+, /usr/bin/time (GNU).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5602} PGUSER=${PGUSER:-postgres}
db=${1:?usage: bench/ops.sh DB [REPS]}
reps=${2:-3}
url() { echo "postgres://$PGUSER@$PGHOST:$PGPORT/$1"; }
"$ROOT/deenroll" --version >/dev/null          # builds the jar and the archive when missing or stale

timed() { # label db args...
  local label=$1 d=$2 rc=0 t; shift 2
  t=$(mktemp)
  DATABASE_URL=$(url "$d") /usr/bin/time -f '%e %M' -o "$t" "$ROOT/deenroll" "$@" >/dev/null 2>&1 || rc=$?
  printf '%-14s %6s s %8s KB  exit %s\n' "$label" $(tail -1 "$t") "$rc"
  rm -f "$t"
}

psql -X -d "$db" -Atc "SELECT 'runs=' || (SELECT count(*) FROM de_enrollment_runs)
  || ' oldest=' || (SELECT min(run_at) FROM de_enrollment_runs)
  || ' lead_log=' || (SELECT count(*) FROM de_enrollment_lead_log)"
for r in $(seq 1 "$reps"); do
  timed health-check "$db" health-check
  timed status "$db" status
  timed "report daily" "$db" report daily
  timed "report weekly" "$db" report weekly
  timed verify "$db" verify
done
copy=${db}_cleanup_$$
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $copy" -c "CREATE DATABASE $copy TEMPLATE $db STRATEGY = FILE_COPY"
psql -X -q -d postgres -c "CHECKPOINT"
timed cleanup "$copy" cleanup
psql -X -q -d postgres -c "DROP DATABASE $copy"
