#!/usr/bin/env bash
# bench/run.sh DATASET [REPS] : deenroll against the physical floor, on one
# PostgreSQL and the same generated data (docs/performance.md).
#
#   DATASET  S (default) | L | Idle | Idle2k | Idle3M | tiny
#   REPS     fresh copies per variant (default 3); variants are interleaved:
#            rep 1 = floor, batched, deenroll; rep 2 = ...
#
# Two templates per dataset (three with baseline), built once from the same
# gen.sql variables (gen.sql is deterministic, so the leads, campaigns and
# clients are byte-identical):
#   bench_<ds>_floor     schema-floor.sql (the floor's stand-in schema) + the
#                        eligibility index + gen.sql   -> floor.sql, floor-batched.sql
#   bench_<ds>_deenroll  host schema + `deenroll migrate` + gen.sql -> deenroll
#   bench_<ds>_baseline  $BASELINE's host schema + `$BASELINE/deenroll migrate`
#                        + gen.sql                     -> baseline
# All carry the same indexes on leads (host indexes + the partial eligibility
# index), created before gen.sql in each, so all are maintained the same way.
# Each measured run gets a fresh CREATE DATABASE ... TEMPLATE copy and a
# CHECKPOINT first.
#
# Variants (VARIANTS="floor batched deenroll" by default; Idle3M: "deenroll"):
#   floor     floor.sql: the whole pass as one transaction (Idle: -v lateral=1,
#             the per-campaign form that uses the index); ms = BEGIN..COMMIT
#   batched   floor-batched.sql: batches of 100 in a plpgsql loop, one COMMIT each
#   deenroll  the whole process, JVM start included: ./deenroll run --output json
#             (the launcher: its JVM flags and class-data archive, or on a JDK 24+
#             its ahead-of-time cache; batch 100, all clients); each launcher gets
#             one unmeasured run first (on a JDK 24+ that one trains the cache);
#             ms = wall time around the process, rss = /usr/bin/time %M
#   deenrollN N runners started together on one copy (scale-out); ms = until
#             the last one exits, rss = the largest
#   baseline  the same as deenroll, with another checkout's launcher
#             ($BASELINE/deenroll, e.g. a `git archive HEAD` of this repository)
#             on its own template: the old build against this one, interleaved
#             in one session; baselineN as deenrollN
# Every run is checked: floor.sql / floor-batched.sql end with floor-check.sql;
# deenroll runs get check-deenroll.sql (floor-check.sql over all run rows) and
# `deenroll verify` (exit 0 expected); baseline runs get the same
# check-deenroll.sql (this checkout's) and `$BASELINE/deenroll verify`. Any failed
# check makes the script exit 1.
#
# env  PGHOST PGPORT PGUSER   default 127.0.0.1 / 5602 / postgres (a superuser:
#                             floor runs also report backend CPU ms)
#      OUT                    default /tmp/deenroll-bench-wt: results.tsv, run-<ds>.log
#      BASELINE               another deenroll checkout, for the baseline variant(s)
#                             (REBUILD=1 after pointing it at a different one:
#                             the template's name does not say which)
#      REBUILD=1              rebuild the templates
#      VARIANTS               see above
#      DEENROLL_JAVA_OPTS     passed to the launcher (replaces its flags and archive)
#      KEEP_TEMPLATES=0       drop this dataset's templates at the end
# Needs psql, java 17+, /usr/bin/time (GNU), python3 (for the summary).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5602} PGUSER=${PGUSER:-postgres}
OUT=${OUT:-/tmp/deenroll-bench-wt}
ds=${1:-S}
reps=${2:-3}
mkdir -p "$OUT"
log="$OUT/run-$ds.log"
res="$OUT/results.tsv"
session=$(date -u +%Y%m%dT%H%M%SZ)-$$
[ -f "$res" ] || printf 'session\tdataset\tvariant\trep\tms\tcpu_ms\tde_enrolled\tcheck\tverify_rc\texit_rc\trss_kb\tjvm_duration_ms\tload1_before\tcpu_psi10_before\n' > "$res"

case $ds in
  S)      gv=(-v clients=50  -v campaigns_per_client=4 -v leads_per_campaign=500  -v messages=5 -v completed_pct=50) ;;
  L)      gv=(-v clients=200 -v campaigns_per_client=5 -v leads_per_campaign=1000 -v messages=5 -v completed_pct=50) ;;
  Idle)   gv=(-v clients=200 -v campaigns_per_client=5 -v leads_per_campaign=1000 -v messages=5 -v completed_pct=0.1) ;;
  # 10x the clients of Idle, about the same leads and the same number eligible: the cost of a client
  Idle2k) gv=(-v clients=2000 -v campaigns_per_client=2 -v leads_per_campaign=250 -v messages=5 -v completed_pct=0.1) ;;
  # 3x the leads of Idle, about the same number eligible (0.1 % / 3)
  Idle3M) gv=(-v clients=200 -v campaigns_per_client=5 -v leads_per_campaign=3000 -v messages=5 -v completed_pct=0.0333) ;;
  tiny)   gv=(-v clients=3   -v campaigns_per_client=40 -v leads_per_campaign=50  -v messages=5 -v completed_pct=50) ;;
  *) echo "unknown dataset $ds (S | L | Idle | Idle2k | Idle3M | tiny)" >&2; exit 2 ;;
esac
default_variants="floor batched deenroll"; [ "$ds" = Idle3M ] && default_variants="deenroll"
variants=${VARIANTS:-$default_variants}
lateral=(); case $ds in Idle*) lateral=(-v lateral=1) ;; esac

lc=$(echo "$ds" | tr 'A-Z' 'a-z')
tpl_floor=bench_${lc}_floor
tpl_deenroll=bench_${lc}_deenroll
tpl_baseline=bench_${lc}_baseline

q() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d postgres -Atc "$1"; }
ver=$(q "SHOW server_version_num")
strategy=""; [ "$ver" -ge 150000 ] && strategy="STRATEGY = FILE_COPY"
cpuopt=(); [ "$ver" -ge 130000 ] && [ "$(q "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")" = t ] \
  && [ -r /proc/self/stat ] && cpuopt=(-v cpu=1)
exists() { [ "$(q "SELECT count(*) FROM pg_database WHERE datname = '$1'")" = 1 ]; }
url() { echo "postgres://$PGUSER@$PGHOST:$PGPORT/$1"; }

# ---- deenroll, run through the launcher as operators run it (its JVM flags,
# its class-data archive); DEENROLL_JAVA_OPTS, when set, replaces both
"$ROOT/deenroll" --version >/dev/null          # builds the jar and the archive when missing or stale
dn() { "$ROOT/deenroll" "$@"; }
case " $variants " in *" baseline"*)
  [ -n "${BASELINE:-}" ] && [ -x "$BASELINE/deenroll" ] || { echo "variant baseline needs BASELINE=<another deenroll checkout>" >&2; exit 2; }
  BASELINE=$(cd "$BASELINE" && pwd)
  "$BASELINE/deenroll" --version >/dev/null ;;  # its jar and archive, built the same way
esac
java_opts=${DEENROLL_JAVA_OPTS:-"the launcher's ($(sed -n 's/^java_opts=.*DEENROLL_JAVA_OPTS:-\([^}]*\)}.*/\1/p' "$ROOT/deenroll") + the class-data archive, or on a JDK 24+ the ahead-of-time cache)"}

psi() { sed -n 's/^some avg10=\([0-9.]*\).*/\1/p' /proc/pressure/cpu 2>/dev/null || true; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# ---- templates
need_floor=0; need_deenroll=0; need_baseline=0
for v in $variants; do case $v in floor|batched) need_floor=1 ;; deenroll*) need_deenroll=1 ;; baseline*) need_baseline=1 ;; esac; done

build() { # name kind [checkout]
  local t=$1 kind=$2 root=${3:-$ROOT} t0
  q "DROP DATABASE IF EXISTS $t"; q "CREATE DATABASE $t"
  if [ "$kind" = floor ]; then
    psql -X -q -v ON_ERROR_STOP=1 -d "$t" -f "$HERE/schema-floor.sql" >>"$log"
    psql -X -q -v ON_ERROR_STOP=1 -d "$t" -f "$HERE/index-eligibility.sql" >>"$log"
  else
    psql -X -q -v ON_ERROR_STOP=1 -d "$t" -f "$root/src/main/resources/host-schema.sql" >>"$log"
    DATABASE_URL=$(url "$t") "$root/deenroll" migrate >>"$log" 2>&1
  fi
  t0=$(now_ms)
  psql -X -q -v ON_ERROR_STOP=1 -d "$t" "${gv[@]}" -f "$HERE/gen.sql" >>"$log"
  echo "[$ds] $t: gen.sql $(( $(now_ms) - t0 )) ms (cpu psi avg10 now $(psi))" | tee -a "$log"
  psql -X -d "$t" -Atc "SELECT 'leads='||count(*)||' heap='||pg_size_pretty(pg_table_size('leads'))||' indexes='||pg_size_pretty(pg_indexes_size('leads'))||' db='||pg_size_pretty(pg_database_size(current_database())) FROM leads" \
    | sed "s/^/[$ds] $t: /" | tee -a "$log"
}
if [ "$need_floor" = 1 ] && { [ "${REBUILD:-0}" = 1 ] || ! exists "$tpl_floor"; }; then build "$tpl_floor" floor; fi
if [ "$need_deenroll" = 1 ] && { [ "${REBUILD:-0}" = 1 ] || ! exists "$tpl_deenroll"; }; then build "$tpl_deenroll" deenroll; fi
if [ "$need_baseline" = 1 ] && { [ "${REBUILD:-0}" = 1 ] || ! exists "$tpl_baseline"; }; then build "$tpl_baseline" deenroll "$BASELINE"; fi

# ---- one measured run
failed=0
db=bench_rep_$$
fresh() { # template
  q "DROP DATABASE IF EXISTS $db"
  q "CREATE DATABASE $db TEMPLATE $1 $strategy"
  q "CHECKPOINT"
  sleep 1
  LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg); PSI_BEFORE=$(psi)
}
row() { # variant rep ms cpu de check verify_rc exit_rc rss jvm_ms
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$session" "$ds" "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$9" "${10}" "$LOAD_BEFORE" "$PSI_BEFORE" | tee -a "$res"
  [ "$6" = OK ] && [ "$7" = 0 ] && [ "$8" = 0 ] || { failed=1; echo "[$ds] $1 rep $2: CHECK FAILED (see $log)" >&2; }
}
field() { printf '%s\n' "$2" | sed -n "s/^$1\([0-9.]*\).*/\1/p" | head -1; }

run_floor() { # variant rep script [args]
  local v=$1 r=$2 script=$3 out; shift 3
  fresh "$tpl_floor"
  out=$(psql -X -v ON_ERROR_STOP=1 "${cpuopt[@]}" -d "$db" "$@" -f "$HERE/$script" 2>&1) || { echo "$out" | tee -a "$log"; exit 1; }
  printf -- '---- [%s] %s rep %s\n%s\n' "$ds" "$v" "$r" "$out" >>"$log"
  local ms chk
  ms=$(printf '%s\n' "$out" | sed -n 's/^\(floor_tx_ms\|batched_ms\)=\([0-9.]*\).*/\2/p' | head -1)
  chk=$(printf '%s\n' "$out" | sed -n 's/^check: \(OK\|FAILED\)$/\1/p' | head -1)
  row "$v" "$r" "$ms" "$(field backend_cpu_ms= "$out")" "$(field 'check: de_enrolled=' "$out")" "$chk" 0 0 "" ""
}

run_deenroll() { # variant rep runners [checkout template]
  local v=$1 r=$2 n=$3 root=${4:-$ROOT} tpl=${5:-$tpl_deenroll} i t0 t1 rc=0 rss=0 k jvm="" out chk vrc de
  fresh "$tpl"
  local u; u=$(url "$db")
  t0=$(now_ms)
  for i in $(seq 1 "$n"); do
    DATABASE_URL=$u /usr/bin/time -f '%M' -o "$OUT/rss.$i" "$root/deenroll" run --output json \
      >"$OUT/out.$i.json" 2>"$OUT/err.$i.log" &
  done
  for i in $(seq 1 "$n"); do wait -n || rc=$?; done
  t1=$(now_ms)
  for i in $(seq 1 "$n"); do
    k=$(grep -o '^[0-9]*$' "$OUT/rss.$i" | tail -1); [ "${k:-0}" -gt "$rss" ] && rss=$k
    jvm="$jvm${jvm:+/}$(sed -n 's/^  "durationMs" : \([0-9]*\),*$/\1/p' "$OUT/out.$i.json" | head -1)"
    { echo "---- [$ds] $v rep $r runner $i"; cat "$OUT/out.$i.json" "$OUT/err.$i.log"; } >>"$log"
  done
  out=$(psql -X -v ON_ERROR_STOP=1 -d "$db" -f "$HERE/check-deenroll.sql" 2>&1) || true
  printf '%s\n' "$out" >>"$log"
  chk=$(printf '%s\n' "$out" | sed -n 's/^check: \(OK\|FAILED\)$/\1/p' | head -1)
  de=$(field 'check: de_enrolled=' "$out")
  vrc=0; DATABASE_URL=$u "$root/deenroll" verify >>"$log" 2>&1 || vrc=$?
  row "$v" "$r" "$((t1 - t0))" "" "$de" "${chk:-FAILED}" "$vrc" "$rc" "$rss" "$jvm"
}

# one unmeasured run per launcher first: the first `run` after a build is not like the
# others (on a JDK 24 or later it is the one that trains the launcher's ahead-of-time cache)
warm() { # checkout template
  fresh "$2"
  DATABASE_URL=$(url "$db") "$1/deenroll" run --output json >>"$log" 2>&1 || true
}
[ "$need_deenroll" = 1 ] && warm "$ROOT" "$tpl_deenroll"
[ "$need_baseline" = 1 ] && warm "$BASELINE" "$tpl_baseline"

echo "[$ds] session $session: $reps rep(s) of: $variants; java $java_opts${BASELINE:+; baseline $BASELINE}" | tee -a "$log"
for r in $(seq 1 "$reps"); do
  for v in $variants; do
    case $v in
      floor)     run_floor "$v" "$r" floor.sql "${lateral[@]}" ;;
      batched)   run_floor "$v" "$r" floor-batched.sql ;;
      deenroll)  run_deenroll "$v" "$r" 1 ;;
      deenroll[0-9]*) run_deenroll "$v" "$r" "${v#deenroll}" ;;
      baseline)  run_deenroll "$v" "$r" 1 "$BASELINE" "$tpl_baseline" ;;
      baseline[0-9]*) run_deenroll "$v" "$r" "${v#baseline}" "$BASELINE" "$tpl_baseline" ;;
      *) echo "unknown variant $v" >&2; exit 2 ;;
    esac
  done
done
q "DROP DATABASE IF EXISTS $db"
rm -f "$OUT"/rss.* "$OUT"/out.*.json "$OUT"/err.*.log
if [ "${KEEP_TEMPLATES:-1}" = 0 ]; then q "DROP DATABASE IF EXISTS $tpl_floor"; q "DROP DATABASE IF EXISTS $tpl_deenroll"; q "DROP DATABASE IF EXISTS $tpl_baseline"; fi

python3 "$HERE/summary.py" "$res" "$session"
exit $failed
