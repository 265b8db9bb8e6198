#!/usr/bin/env bash
# bench/migrate-writer.sh CHECKOUT... : a host writer's latency while `deenroll migrate`
# runs from 18 (the host schema, no deenroll migration yet) to the latest, on L (issue 13).
#
# For each rep and each checkout (interleaved): a fresh CREATE DATABASE ... TEMPLATE
# copy of $TEMPLATE, CHECKPOINT, then pgbench writes leads continuously (2 clients,
# $RATE writes/s in all, half UPDATE of a random lead, half INSERT of a new one,
# each statement its own transaction: migrate-writer-update.sql, migrate-writer-insert.sql)
# from $LEAD s before `CHECKOUT/deenroll migrate` starts until $LEAD s after it ends.
# pgbench --log records every write's latency and schedule lag. The line per run
# covers the writes that began while migrate ran: their count; p99 and worst of
# each statement's own time (latency - lag: how long the database kept it
# waiting), the worst UPDATE and INSERT apart; and p99 and worst counted from the
# scheduled start (which adds the backlog a held-up or CPU-starved client
# builds: on a loaded machine it keeps growing after a stall).
#
# The template (built when missing): the host schema of /work/shared/contract plus
# gen.sql's L data. gen.sql writes deenroll's columns too, so they are added for it
# and dropped again, and VACUUM FULL rewrites both tables without them: the
# tables as the host has them, before `migrate`.
#
# env  PGHOST PGPORT PGUSER  default 127.0.0.1 / 5613 / postgres
#      TEMPLATE              default bench_l_host18
#      REPS                  default 2
#      RATE                  default 50 (writes/s, both clients together)
#      LEAD                  default 5 (s of writing before and after migrate)
#      OUT                   default /tmp/deenroll-migrate-writer: results.tsv, pgbench logs
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5613} PGUSER=${PGUSER:-postgres}
TEMPLATE=${TEMPLATE:-bench_l_host18} REPS=${REPS:-2} RATE=${RATE:-50} LEAD=${LEAD:-5}
OUT=${OUT:-/tmp/deenroll-migrate-writer}
PGBENCH=${PGBENCH:-$(ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -1)}
[ $# -ge 1 ] || { echo "usage: $0 CHECKOUT..." >&2; exit 2; }
mkdir -p "$OUT"
res="$OUT/results.tsv"
[ -f "$res" ] || printf 'checkout\trep\tmigrate_ms\tmigrate_rc\twrites\tp99_ms\tmax_ms\tmax_update_ms\tmax_insert_ms\tp99_sched_ms\tmax_sched_ms\n' > "$res"
q() { psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "$1"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

if [ -z "$(psql -X -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$TEMPLATE'")" ]; then
  echo "building $TEMPLATE (about 5 min)" >&2
  q "CREATE DATABASE $TEMPLATE"
  psql -X -q -v ON_ERROR_STOP=1 -d "$TEMPLATE" -f "$ROOT/src/main/resources/host-schema.sql"
  psql -X -q -v ON_ERROR_STOP=1 -d "$TEMPLATE" -c "ALTER TABLE campaigns ADD COLUMN is_active boolean,
      ADD COLUMN active_leads_count int, ADD COLUMN completed_leads_count int, ADD COLUMN booked_count int,
      ADD COLUMN opted_out_count int, ADD COLUMN last_enrollment_at timestamptz;
    ALTER TABLE leads ADD COLUMN completed_at timestamptz, ADD COLUMN campaign_history jsonb"
  psql -X -q -v ON_ERROR_STOP=1 -d "$TEMPLATE" -v clients=200 -v campaigns_per_client=5 -v leads_per_campaign=1000 \
    -v messages=5 -v completed_pct=50 -f "$HERE/gen.sql"
  psql -X -q -v ON_ERROR_STOP=1 -d "$TEMPLATE" -c "ALTER TABLE campaigns DROP COLUMN is_active,
      DROP COLUMN active_leads_count, DROP COLUMN completed_leads_count, DROP COLUMN booked_count,
      DROP COLUMN opted_out_count, DROP COLUMN last_enrollment_at;
    ALTER TABLE leads DROP COLUMN completed_at, DROP COLUMN campaign_history" \
    -c "VACUUM FULL campaigns" -c "VACUUM FULL leads" -c "VACUUM ANALYZE"
fi
leads=$(psql -X -d "$TEMPLATE" -Atc "SELECT count(*) FROM leads WHERE first_name IS DISTINCT FROM 'Writer' AND campaign_link_id IS NOT NULL")
campaigns=$(psql -X -d "$TEMPLATE" -Atc "SELECT count(*) FROM campaigns")

for checkout in "$@"; do "$checkout/deenroll" --version >/dev/null; done   # build the jar and class-data archive first
for rep in $(seq 1 "$REPS"); do
  for checkout in "$@"; do
    db=migrate_writer_$$_$rep
    tag=$(basename "$checkout")-$rep
    q "DROP DATABASE IF EXISTS $db"; q "CREATE DATABASE $db TEMPLATE $TEMPLATE"; q "CHECKPOINT"
    rm -f "$OUT/pgbench-$tag".*
    "$PGBENCH" -n -c 2 -j 2 -R "$RATE" -T 3600 -D leads="$leads" -D campaigns="$campaigns" \
      -f "$HERE/migrate-writer-update.sql" -f "$HERE/migrate-writer-insert.sql" \
      --log --log-prefix="$OUT/pgbench-$tag" "$db" >"$OUT/pgbench-$tag.out" 2>&1 &
    bench=$!
    sleep "$LEAD"
    t0=$(now_ms); rc=0
    DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$db" "$checkout/deenroll" migrate >"$OUT/migrate-$tag.log" 2>&1 || rc=$?
    t1=$(now_ms)
    sleep "$LEAD"
    kill -TERM "$bench"; wait "$bench" || true   # TERM: a background job of a script ignores INT
    # log lines: client tx latency_us script epoch_s epoch_us schedule_lag_us; epoch = when the write ended
    cat "$OUT/pgbench-$tag".[0-9]* 2>/dev/null | python3 -c '
import sys
t0, t1 = int(sys.argv[1]), int(sys.argv[2])
wait, late, worst = [], [], {0: 0.0, 1: 0.0}
for line in sys.stdin:
    f = line.split()
    if len(f) < 7:
        continue  # the last line, cut off when pgbench was stopped
    ms, lag = int(f[2]) / 1000, int(f[6]) / 1000
    began = int(f[4]) * 1000 + int(f[5]) / 1000 - (ms - lag)
    if t0 <= began <= t1:
        wait.append(ms - lag); late.append(ms); worst[int(f[3])] = max(worst[int(f[3])], ms - lag)
wait.sort(); late.sort()
p99 = lambda l: l[max(0, int(len(l) * 0.99) - 1)]
print("\t".join(["0"] + ["-"] * 6) if not wait else "%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f" % (
    len(wait), p99(wait), wait[-1], worst[0], worst[1], p99(late), late[-1]))
' "$t0" "$t1" > "$OUT/stats-$tag"
    printf '%s\t%s\t%s\t%s\t%s\n' "$checkout" "$rep" $(( t1 - t0 )) "$rc" "$(cat "$OUT/stats-$tag")" | tee -a "$res"
    q "DROP DATABASE $db"
  done
done
