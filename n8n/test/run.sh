#!/usr/bin/env bash
# Opt-in end-to-end test of n8n/de-enrollment-workflow.json in a real n8n 2.x
# (not part of `./mvnw verify`: the install takes ~8-15 minutes and ~3 GB;
# .github/workflows/n8n.yml runs it on demand and weekly).
#
#   n8n/test/run.sh                     # installs Node 24 and n8n into a temp folder
#   N8N_TEST_PREFIX=/var/tmp/n8n n8n/test/run.sh   # keeps the install there, reused next time
#
# It imports the workflow, runs it with `n8n execute` (the Manual Trigger path)
# against an embedded PostgreSQL with sample data and a local HTTP listener,
# and checks: the finished leads were de-enrolled, the success branch posted
# the metric; then, with every client run forced to fail (exit 1), that the
# alert reached the alert endpoint and Slack.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
N8N_VERSION=2.40.7
prefix=${N8N_TEST_PREFIX:-$(mktemp -d)}
work=$(mktemp -d)
start=$(date +%s)
step() { echo "[$(($(date +%s) - start))s] $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
  [ -n "${N8N_TEST_PREFIX:-}" ] || rm -rf "$prefix"
}
trap cleanup EXIT

# n8n 2.x needs Node >= 24; the npm package `node` brings its binary from the npm registry.
if [ ! -x "$prefix/node/node_modules/node/bin/node" ]; then
  step "installing Node 24 into $prefix/node"
  npm install --no-audit --no-fund --prefix "$prefix/node" node@24 >/dev/null
fi
export PATH="$prefix/node/node_modules/node/bin:$PATH"
step "node $(node --version)"

n8n="$prefix/n8n/node_modules/.bin/n8n"
if [ ! -x "$n8n" ]; then
  step "installing n8n@$N8N_VERSION (takes a while)"
  mkdir -p "$prefix/n8n"
  # --ignore-scripts: n8n's dependencies' install scripts fetch prebuilt binaries
  # from outside the npm registry; sqlite3, the one n8n needs, is built from source.
  npm install --no-audit --no-fund --ignore-scripts --prefix "$prefix/n8n" "n8n@$N8N_VERSION" >/dev/null
  (cd "$prefix/n8n" && npm rebuild sqlite3 >/dev/null)
fi
step "n8n $("$n8n" --version)"

jar="$root/target/deenroll.jar"
if [ ! -f "$jar" ]; then
  step "building $jar"
  (cd "$root" && ./mvnw -q -B -DskipTests package)
fi

step "starting the sample database"
java -cp "$jar" "$here/SampleDatabase.java" serve "$work/db" > "$work/db.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do [ -s "$work/db" ] && break; sleep 1; done
[ -s "$work/db" ] || { cat "$work/db.log" >&2; fail "the sample database did not start"; }
read -r db_url finished < "$work/db"
export DATABASE_URL="$db_url"
"$root/deenroll" migrate > /dev/null
step "sample database migrated: $finished leads finished their sequence"

node "$here/listener.mjs" "$work" "$work/port" &
pids+=($!)
for _ in $(seq 1 30); do [ -s "$work/port" ] && break; sleep 0.2; done
port=$(cat "$work/port")

# What the workflow reads from n8n's environment, and what n8n 2.x needs for this test.
export MONITORING_WEBHOOK_URL="http://127.0.0.1:$port/metric"
export ALERT_WEBHOOK_URL="http://127.0.0.1:$port/alert"
export SLACK_WEBHOOK_URL="http://127.0.0.1:$port/slack"
export N8N_USER_FOLDER="$work/n8n"
export NODES_EXCLUDE='[]'                     # 2.x excludes Execute Command by default
export N8N_BLOCK_ENV_ACCESS_IN_NODE=false     # the workflow reads $env.*_WEBHOOK_URL
export N8N_EXPRESSION_ENGINE=legacy
export N8N_DIAGNOSTICS_ENABLED=false
export N8N_ENCRYPTION_KEY=n8n-test-only-key
export DB_SQLITE_POOL_SIZE=1

# The tool's path is the workflow's one setting; point it at this checkout.
sed "s#/opt/deenroll/deenroll#$root/deenroll#" "$root/n8n/de-enrollment-workflow.json" > "$work/workflow.json"
step "importing the workflow"
"$n8n" import:workflow --input="$work/workflow.json" > "$work/import.log" 2>&1 || { cat "$work/import.log" >&2; fail "import"; }
id=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).id)' "$work/workflow.json")

step "n8n execute --id=$id (succeeding run)"
"$n8n" execute --id="$id" > "$work/execute-ok.log" 2>&1 || { tail -50 "$work/execute-ok.log" >&2; fail "execute (success)"; }
[ -s "$work/metric.jsonl" ] || { tail -50 "$work/execute-ok.log" >&2; fail "the success branch posted no metric"; }
metric=$(head -1 "$work/metric.jsonl")
echo "  metric: $metric"
node -e '
  const m = JSON.parse(process.argv[1]);
  if (m.status !== "success" || m.leadsDeEnrolled !== Number(process.argv[2])) {
    console.error("expected status success and " + process.argv[2] + " leads de-enrolled"); process.exit(1);
  }' "$metric" "$finished" || fail "metric"
left=$(LOG_LEVEL=warn "$root/deenroll" run --dry-run --output json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).totals.leadsDeEnrolled))')
[ "$left" = 0 ] || fail "$left leads still to de-enroll after the workflow ran"
[ ! -s "$work/alert.jsonl" ] || fail "a succeeding run alerted: $(cat "$work/alert.jsonl")"
step "success: $finished leads de-enrolled, metric posted, no alert"

step "forcing every client run to fail (exit 1)"
java -cp "$jar" "$here/SampleDatabase.java" sql "$db_url" \
  "CREATE FUNCTION n8n_test_fail() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN RAISE EXCEPTION 'n8n test: forced failure'; END \$\$;
   CREATE TRIGGER n8n_test_fail BEFORE INSERT ON de_enrollment_runs FOR EACH ROW EXECUTE FUNCTION n8n_test_fail();"
code=0; "$root/deenroll" run --output json > /dev/null 2>&1 || code=$?
[ "$code" = 1 ] || fail "the forced failure exits $code, not 1"
"$n8n" execute --id="$id" > "$work/execute-fail.log" 2>&1 || { tail -50 "$work/execute-fail.log" >&2; fail "execute (failure)"; }
[ -s "$work/alert.jsonl" ] || { tail -50 "$work/execute-fail.log" >&2; fail "the failure reached no alert endpoint"; }
alert=$(head -1 "$work/alert.jsonl")
echo "  alert: ${alert:0:400}"
node -e '
  const a = JSON.parse(process.argv[1]);
  const ids = a.details.clients.map((c) => c.clientId);
  if (a.severity !== "critical" || !/failed/.test(a.message) || a.details.exitCode !== 1) { process.exit(1); }
  // each failed client named by id, with the command that re-runs it
  if (!ids.length || !ids.every((id) => a.message.includes("(" + id + ")") && a.message.includes("deenroll run --client-id=" + id))) {
    process.exit(1);
  }' "$alert" \
  || fail "alert payload"
[ -s "$work/slack.jsonl" ] || fail "the failure was not posted to Slack"
[ "$(wc -l < "$work/metric.jsonl")" = 1 ] || fail "the failed run posted a success metric"
step "failure: alert and Slack message posted"

# The hourly path: the same workflow with the Settings node's task fixed to
# health-check (n8n execute starts at the Manual Trigger), after six failed runs
# of one client in the history (WARNING: failed runs, success rate).
step "health-check path"
java -cp "$jar" "$here/SampleDatabase.java" sql "$db_url" \
  "DROP TRIGGER n8n_test_fail ON de_enrollment_runs;
   INSERT INTO de_enrollment_runs (id, invocation_id, client_id, run_type, status, budget_ms, finished_at)
   SELECT md5('run' || g)::uuid, md5('inv' || g)::uuid, (SELECT id FROM clients WHERE is_active ORDER BY id LIMIT 1),
          'scheduled', 'failed', 240000, now() FROM generate_series(1, 6) g;"
node -e '
  const fs = require("fs");
  const wf = JSON.parse(fs.readFileSync(process.argv[1]));
  wf.id = "DeEnrollV2Health1";
  wf.name += " (health test)";
  const task = wf.nodes.find((n) => n.name === "Settings").parameters.assignments.assignments.find((a) => a.name === "task");
  task.value = "health-check";
  fs.writeFileSync(process.argv[2], JSON.stringify(wf));' "$work/workflow.json" "$work/health.json"
"$n8n" import:workflow --input="$work/health.json" > "$work/import-health.log" 2>&1 || { cat "$work/import-health.log" >&2; fail "import (health)"; }
"$n8n" execute --id=DeEnrollV2Health1 > "$work/execute-health.log" 2>&1 || { tail -50 "$work/execute-health.log" >&2; fail "execute (health)"; }
health=$(grep "De-enrollment health" "$work/alert.jsonl" | head -1 || true)
[ -n "$health" ] || { tail -50 "$work/execute-health.log" >&2; fail "the health check posted no alert"; }
node -e '
  const a = JSON.parse(process.argv[1]);
  const f = a.details.findings.find((x) => x.rule === "failed_runs");
  // the finding names its client by id, and the alert carries the command to run for it
  if (!f || !f.clientId || !f.clientName || !a.message.includes("(" + f.clientId + ") has 6 failed runs")
      || !a.message.includes("deenroll run --client-id=" + f.clientId)) { process.exit(1); }' "$health" \
  || fail "the health alert does not name the failing client by id with its next command"
echo "  health alert: ${health:0:300}"
step "health-check: WARNING/CRITICAL alert posted"

echo "n8n workflow test passed in $(($(date +%s) - start)) s"
