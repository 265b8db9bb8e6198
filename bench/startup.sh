#!/usr/bin/env bash
# bench/startup.sh [REPS] : where deenroll's start-up time goes (docs/performance.md).
#
# On a copy of the S deenroll template (bench/run.sh S builds it) drained by one
# run, so every later run has nothing to do (50 clients, 0 eligible), it times,
# REPS times each, interleaved, with the launcher's JVM flags:
#   jvm          java -version                  (the JVM alone)
#   help         deenroll --help                (classes from the jar)
#   idle         deenroll run (nothing to do)
#   help-cds / idle-cds   the same with the launcher's application class-data
#                archive (target/deenroll.jsa, dumped by ./deenroll from
#                src/main/cds/deenroll.classlist): what ./deenroll runs on JDK 17
#   help-aot / idle-aot   on a JDK 24 or later, with the launcher's ahead-of-time
#                cache (target/deenroll.aot, trained by the drain run below,
#                which goes through ./deenroll): what ./deenroll runs there
# and, once, a class-loading timeline (-Xlog:class+load with JVM uptime) of an
# idle run with and without the archive: when the CLI, the pool, the driver,
# jOOQ, the schema check and the engine's first batch are reached.
# Also the round-trip and commit latency of this machine right now (pgbench),
# which is what a JDBC batch pays on top of the server's own work.
# Each row has the wall time and the CPU time (user + system, all threads: on a
# busy machine the wall time is mostly waiting for a core, the CPU time is not).
# The JVM is the launcher's: JAVA_HOME's, else java on the PATH.
# env as bench/run.sh (PGHOST PGPORT PGUSER OUT DEENROLL_JAVA_OPTS), JAVA_HOME.
# Needs /usr/bin/time (GNU).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5602} PGUSER=${PGUSER:-postgres}
OUT=${OUT:-/tmp/deenroll-bench-wt}
reps=${1:-5}
mkdir -p "$OUT"
q() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d postgres -Atc "$1"; }
[ "$(q "SELECT count(*) FROM pg_database WHERE datname = 'bench_s_deenroll'")" = 1 ] \
  || { echo "run bench/run.sh S first (it builds bench_s_deenroll)" >&2; exit 2; }
jar="$ROOT/target/deenroll.jar"
java=java
[ -n "${JAVA_HOME:-}" ] && java="$JAVA_HOME/bin/java"
"$ROOT/deenroll" --version >/dev/null          # builds the jar and the archive when stale
java_opts=${DEENROLL_JAVA_OPTS:-$(sed -n 's/^java_opts=.*DEENROLL_JAVA_OPTS:-\([^}]*\)}.*/\1/p' "$ROOT/deenroll")}
jsa="$ROOT/target/deenroll.jsa"
[ -f "$jsa" ] || { echo "no $jsa: the launcher could not dump it (see its message)" >&2; exit 2; }
db=bench_startup_$$
q "DROP DATABASE IF EXISTS $db"; q "CREATE DATABASE $db TEMPLATE bench_s_deenroll"
export DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$db"
# shellcheck disable=SC2086
"$ROOT/deenroll" run >/dev/null 2>&1       # drain: nothing left to do (on a JDK 24+ it trains the launcher's cache)
aot="$ROOT/target/deenroll.aot"
by=; [ -f "$aot.java" ] && read -r by < "$aot.java"
variants="jvm help help-cds idle idle-cds"
[ -f "$aot" ] && [ "$by" = "$(readlink -f "$(command -v "$java")")" ] && variants="$variants help-aot idle-aot"
echo "app CDS archive: $(du -h "$jsa" | cut -f1); $("$java" -version 2>&1 | head -1)"

psi() { sed -n 's/^some avg10=\([0-9.]*\).*/\1/p' /proc/pressure/cpu 2>/dev/null || true; }
declare -A T C
one() { # name cmd...
  local name=$1 t0 t1 cpu; shift
  local p; p=$(psi)
  t0=$(date +%s%N); /usr/bin/time -f '%U %S' -o "$OUT/startup.cpu" "$@" >/dev/null 2>&1 || true; t1=$(date +%s%N)
  cpu=$(awk 'END { printf "%d", ($1 + $2) * 1000 }' "$OUT/startup.cpu")
  T[$name]="${T[$name]:-} $(( (t1 - t0) / 1000000 ))"
  C[$name]="${C[$name]:-} $cpu"
  printf '%s\t%s\t%s\t%s\n' "$name" "$(( (t1 - t0) / 1000000 ))" "$cpu" "$p" >>"$OUT/startup.tsv"
}
median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for r in $(seq 1 "$reps"); do
  # shellcheck disable=SC2086
  {
    one jvm      $java $java_opts -version
    one help     $java $java_opts -jar "$jar" --help
    one help-cds $java $java_opts -Xshare:auto -XX:SharedArchiveFile="$jsa" -jar "$jar" --help
    one idle     $java $java_opts -jar "$jar" run
    one idle-cds $java $java_opts -Xshare:auto -XX:SharedArchiveFile="$jsa" -jar "$jar" run
    case " $variants " in *" idle-aot "*)
      one help-aot $java $java_opts -XX:AOTCache="$aot" -jar "$jar" --help
      one idle-aot $java $java_opts -XX:AOTCache="$aot" -jar "$jar" run ;;
    esac
  }
done
echo "| what | median ms | runs (ms) | median CPU ms | CPU PSI avg10 now |"
echo "|---|---|---|---|---|"
for k in $variants; do
  printf '| %s | **%s** | %s | %s | %s |\n' "$k" "$(echo "${T[$k]}" | median)" "${T[$k]# }" "$(echo "${C[$k]}" | median)" "$(psi)"
done

timeline() { # label extra-opts
  local f="$OUT/classload-$1.log"
  # shellcheck disable=SC2086
  $java $java_opts $2 -Xlog:class+load:file="$f":uptime -jar "$jar" run >/dev/null 2>&1
  printf '| %s | %s | %s |' "$1" "$(grep -c 'source:' "$f")" "$(grep -c 'shared objects file' "$f")"
  for c in 'deenroll.cli.Main ' 'deenroll.cli.RunCommand ' 'com.zaxxer.hikari.HikariConfig ' 'org.jooq.impl.DSL ' \
           'deenroll.db.SchemaCheck ' 'deenroll.engine.Invocations ' 'deenroll.cli.RunReport '; do
    printf ' %s |' "$(grep -m1 -- "$c" "$f" | sed -n 's/^\[\([0-9.]*s\)\].*/\1/p')"
  done
  printf ' %s |\n' "$(tail -1 "$f" | sed -n 's/^\[\([0-9.]*s\)\].*/\1/p')"
}
echo
echo "class loading timeline of one idle run (JVM uptime when the class is loaded)"
echo "| run | classes | from CDS | Main | RunCommand | Hikari | jOOQ DSL | SchemaCheck (pool up, 1st query done) | Invocations (engine ready) | RunReport (all clients done) | last class |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
timeline default ""
timeline app-cds "-Xshare:auto -XX:SharedArchiveFile=$jsa"
case " $variants " in *" idle-aot "*) timeline aot "-XX:AOTCache=$aot" ;; esac
echo "loaded classes by library (default run): $(for p in org.jooq com.fasterxml ch.qos org.slf4j org.postgresql com.zaxxer picocli org.flywaydb deenroll. 'java\.' 'jdk\.\|sun\.'; do printf '%s=%s ' "$p" "$(grep -c " $p" "$OUT/classload-default.log")"; done)"

echo
echo "round trip and commit latency now (pgbench, 1 client, 5 s each; CPU PSI avg10 $(psi))"
printf 'SELECT 1;\n' >"$OUT/rt.sql"
printf 'INSERT INTO bench_commit VALUES (1);\n' >"$OUT/commit.sql"
psql -X -q -d "$db" -c "CREATE TABLE bench_commit (x int)"
for s in rt commit; do
  printf '%s: ' "$s"; pgbench -n -M prepared -c 1 -T 5 -f "$OUT/$s.sql" "$db" 2>/dev/null | grep -E 'latency average' || true
done
q "DROP DATABASE IF EXISTS $db"
