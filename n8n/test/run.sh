#!/usr/bin/env bash
# Opt-in end-to-end test of both n8n workflows in a real n8n 2.x (not part of
# `./mvnw verify` nor of .ci/run: the install takes ~8-15 minutes and ~3 GB;
# .github/workflows/n8n.yml runs it on demand and weekly).
#
#   n8n/test/run.sh                     # installs Node 24 and n8n into a temp folder
#   N8N_TEST_PREFIX=/var/tmp/n8n n8n/test/run.sh   # keeps the install there, reused next time
#
# It imports n8n/de-enrollment-workflow.json (Execute Command) and
# n8n/de-enrollment-workflow-ssh.json (SSH node, to a throwaway sshd on
# 127.0.0.1 that runs deploy/deenroll-ssh as the key's forced command), runs
# each with `n8n execute` (the Manual Trigger path) against its own database of
# an embedded PostgreSQL with sample data, and checks what a local HTTP
# listener receives: a partial run (budget 1 ms) alerts a warning, a normal run
# de-enrolls every finished lead and posts the metric, a run with every client
# forced to fail (exit 1) alerts each client by id with its next command, the
# health check alerts the client with six failed runs; alerts go to Slack too.
# Then, with sshd stopped, that the SSH workflow alerts that it could not connect.
# Needs sshd and ssh-keygen (Debian's openssh-server, installed when run as root).
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

# before any install: both workflows parse, route and alert alike
node "$here/check.mjs" same-routing "$root/n8n/de-enrollment-workflow.json" "$root/n8n/de-enrollment-workflow-ssh.json" \
  || fail "the two workflows drifted apart"

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

sshd=$(command -v sshd || echo /usr/sbin/sshd)
if [ ! -x "$sshd" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  step "installing openssh-server (the test runs its own sshd; the system's is left alone)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null
fi
[ -x "$sshd" ] || fail "no sshd: install openssh-server"

step "starting the sample databases"
java -cp "$jar" "$here/SampleDatabase.java" serve "$work/db" n8n_exec n8n_ssh > "$work/db.log" 2>&1 &
pids+=($!)
lines() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }
for _ in $(seq 1 120); do [ "$(lines "$work/db")" = 2 ] && break; sleep 1; done
[ "$(lines "$work/db")" = 2 ] || { cat "$work/db.log" >&2; fail "the sample database did not start"; }
{ read -r exec_db exec_finished; read -r ssh_db ssh_finished; } < "$work/db"
for db in "$exec_db" "$ssh_db"; do DATABASE_URL="$db" "$root/deenroll" migrate > /dev/null; done
step "sample databases migrated: $exec_finished and $ssh_finished leads finished their sequence"

node "$here/listener.mjs" "$work" "$work/port" &
pids+=($!)
for _ in $(seq 1 30); do [ -s "$work/port" ] && break; sleep 0.2; done
port=$(cat "$work/port")
listener="http://127.0.0.1:$port"

# What every n8n command of this test needs.
export N8N_USER_FOLDER="$work/n8n"
export N8N_DIAGNOSTICS_ENABLED=false
export N8N_ENCRYPTION_KEY=n8n-test-only-key
export DB_SQLITE_POOL_SIZE=1
# the default expression engine (vm) runs in isolated-vm, a native module that
# --ignore-scripts left unbuilt; n8n's Docker image and a full install have it
export N8N_EXPRESSION_ENGINE=legacy

# The Execute Command route: the tool gets n8n's environment, and the workflow
# reads its endpoints from it ($env), which n8n 2.x allows only when told to.
exec_n8n() {
  env DATABASE_URL="$exec_db" ${budget:+DE_ENROLLMENT_MAX_RUNTIME=$budget} \
    MONITORING_WEBHOOK_URL="$listener/metric" ALERT_WEBHOOK_URL="$listener/alert" SLACK_WEBHOOK_URL="$listener/slack" \
    NODES_EXCLUDE='[]' N8N_BLOCK_ENV_ACCESS_IN_NODE=false "$n8n" "$@"
}

# The SSH route: n8n with its defaults and nothing of the tool in its
# environment; the database and the budget are in the env file on the "remote" host.
ssh_n8n() {
  { echo "DATABASE_URL=$ssh_db"; [ -z "${budget:-}" ] || echo "DE_ENROLLMENT_MAX_RUNTIME=$budget"; } > "$remote/deenroll.env"
  env -u DATABASE_URL "$n8n" "$@"
}

# The "remote" host: deenroll installed as docs/deploy.md does it, with its env
# file, and an sshd of this test on 127.0.0.1 that lets in one throwaway key,
# whose forced command is deploy/deenroll-ssh. sshd runs as the user of the
# test, so the key logs in as that user.
remote="$work/remote"
mkdir -p "$remote/opt" "$work/ssh"
install -m 755 "$root/deploy/deenroll" "$root/deploy/deenroll-env" "$root/deploy/deenroll-ssh" "$remote/opt/"
ln -s "$jar" "$remote/opt/deenroll.jar"
touch "$remote/deenroll.env" && chmod 600 "$remote/deenroll.env"
ssh-keygen -q -t ed25519 -N '' -C n8n-test-host -f "$work/ssh/host_key"
ssh-keygen -q -t ed25519 -N '' -C n8n-test-client -f "$work/ssh/client_key"
echo "restrict,command=\"$remote/opt/deenroll-ssh $remote/deenroll.env\" $(cat "$work/ssh/client_key.pub")" > "$work/ssh/authorized_keys"
ssh_port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
cat > "$work/ssh/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $ssh_port
HostKey $work/ssh/host_key
PidFile $work/ssh/sshd.pid
AuthorizedKeysFile $work/ssh/authorized_keys
AuthenticationMethods publickey
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
# the key and its folder are in a temp folder under /tmp, which is world-writable
StrictModes no
EOF
# sshd started as root wants its privilege-separation folder, made by the service unit on a real host
[ "$(id -u)" != 0 ] || [ -d /run/sshd ] || install -d -m 755 /run/sshd
"$sshd" -D -e -f "$work/ssh/sshd_config" > "$work/ssh/sshd.log" 2>&1 &
sshd_pid=$!
pids+=($sshd_pid)
for _ in $(seq 1 50); do grep -q "Server listening" "$work/ssh/sshd.log" && break; sleep 0.2; done
grep -q "Server listening" "$work/ssh/sshd.log" || { cat "$work/ssh/sshd.log" >&2; fail "sshd did not start"; }
ssh_client() {
  ssh -i "$work/ssh/client_key" -p "$ssh_port" -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o LogLevel=error "$(id -un)@127.0.0.1" "$@"
}
code=0; ssh_client 'cat /etc/passwd' > "$work/ssh/refused.out" 2> "$work/ssh/refused.err" || code=$?
[ "$code" = 2 ] && [ ! -s "$work/ssh/refused.out" ] && grep -q "deenroll-ssh: refused" "$work/ssh/refused.err" \
  || fail "the key's forced command let 'cat /etc/passwd' through (exit $code): $(cat "$work/ssh/refused.err")"
step "sshd on 127.0.0.1:$ssh_port as $(id -un); the key runs deenroll-ssh only"

# The n8n credentials of the SSH workflow, imported as an operator would
# create them in the editor; the secrets exist only here and in n8n's encrypted store.
hook_token=n8n-test-hook-token
slack_token=xoxb-n8n-test-token
node -e '
  const fs = require("fs");
  const [file, key, port, user, hook, slack] = process.argv.slice(1);
  fs.writeFileSync(file, JSON.stringify([
    { id: "DeEnrollSshKey01", name: "deenroll host (SSH)", type: "sshPrivateKey",
      data: { host: "127.0.0.1", port: Number(port), username: user, privateKey: fs.readFileSync(key, "utf8"), passphrase: "" } },
    { id: "DeEnrollHooks001", name: "deenroll webhooks", type: "httpHeaderAuth",
      data: { name: "Authorization", value: "Bearer " + hook } },
    { id: "DeEnrollSlack001", name: "deenroll Slack", type: "slackApi", data: { accessToken: slack } },
  ]), { mode: 0o600 });' "$work/credentials.json" "$work/ssh/client_key" "$ssh_port" "$(id -un)" "$hook_token" "$slack_token"
# (the import commands log a failure and may still exit 0: their log says whether they worked)
"$n8n" import:credentials --input="$work/credentials.json" > "$work/import-credentials.log" 2>&1 || true
grep -q "Successfully imported 3 credentials" "$work/import-credentials.log" \
  || { cat "$work/import-credentials.log" >&2; fail "import:credentials"; }
rm "$work/credentials.json"

# The workflows as an operator sets them up: the Execute Command one with the
# launcher's path, the SSH one with the endpoints' URLs; and a copy of each
# with the Settings node's task fixed to health-check (n8n execute starts at
# the Manual Trigger, which runs `run`).
mkdir "$work/workflows"
node -e '
  const fs = require("fs");
  const [root, work, listener] = process.argv.slice(1);
  const settings = (wf, name) => wf.nodes.find((n) => n.name === "Settings").parameters.assignments.assignments.find((a) => a.name === name);
  const write = (wf, file, healthId) => {
    fs.writeFileSync(`${work}/workflows/${file}.json`, JSON.stringify(wf));
    wf.id = healthId;
    wf.name += " (health test)";
    settings(wf, "task").value = "health-check";
    fs.writeFileSync(`${work}/workflows/${file}-health.json`, JSON.stringify(wf));
  };
  const exec = JSON.parse(fs.readFileSync(`${root}/n8n/de-enrollment-workflow.json`));
  settings(exec, "deenroll").value = `${root}/deenroll`;
  write(exec, "exec", "DeEnrollExecHlth");
  const ssh = JSON.parse(fs.readFileSync(`${root}/n8n/de-enrollment-workflow-ssh.json`));
  settings(ssh, "monitoringUrl").value = `${listener}/sshmetric`;
  settings(ssh, "alertUrl").value = `${listener}/sshalert`;
  settings(ssh, "slackUrl").value = `${listener}/sshslack`;
  write(ssh, "ssh", "DeEnrollSshHlth1");' "$root" "$work" "$listener"
step "importing the workflows"
"$n8n" import:workflow --separate --input="$work/workflows" > "$work/import-workflows.log" 2>&1 || true
grep -q "Successfully imported 4 workflows" "$work/import-workflows.log" \
  || { cat "$work/import-workflows.log" >&2; fail "import:workflow"; }
id_of() { node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).id)' "$work/workflows/$1.json"; }

check() { node "$here/check.mjs" "$@"; }
left_to_deenroll() {
  DATABASE_URL="$1" LOG_LEVEL=warn "$root/deenroll" run --dry-run --output json \
    | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).totals.leadsDeEnrolled))'
}
db_sql() { java -cp "$jar" "$here/SampleDatabase.java" sql "$@"; }

# One execution of a route's workflow; afterwards exactly the endpoints named
# (metric, alert, slack) have received one more request.
execute() {
  local route=$1 workflow=$2 label=$3; shift 3
  local metric=$work/${prefix}metric.jsonl alert=$work/${prefix}alert.jsonl slack=$work/${prefix}slack.jsonl
  local before_metric before_alert before_slack
  before_metric=$(lines "$metric"); before_alert=$(lines "$alert"); before_slack=$(lines "$slack")
  "${route}_n8n" execute --id="$(id_of "$workflow")" > "$work/execute-$route-$label.log" 2>&1 \
    || { tail -50 "$work/execute-$route-$label.log" >&2; fail "$route: n8n execute ($label)"; }
  local want_metric=$before_metric want_alert=$before_alert want_slack=$before_slack
  for endpoint in "$@"; do
    case $endpoint in metric) want_metric=$((want_metric + 1)) ;; alert) want_alert=$((want_alert + 1)) ;; slack) want_slack=$((want_slack + 1)) ;; esac
  done
  [ "$(lines "$metric")" = "$want_metric" ] && [ "$(lines "$alert")" = "$want_alert" ] && [ "$(lines "$slack")" = "$want_slack" ] \
    || { tail -50 "$work/execute-$route-$label.log" >&2
         fail "$route ($label): expected a request to [$*]; metric $before_metric→$(lines "$metric"), alert $before_alert→$(lines "$alert"), slack $before_slack→$(lines "$slack")"; }
}

# The same runs and the same expectations for both routes.
scenario() {
  local route=$1 db=$2 finished=$3
  local alert=$work/${prefix}alert.jsonl

  step "$route: partial run (budget 1 ms)"
  budget=1 execute "$route" "$route" partial alert slack
  check partial "$alert" || fail "$route: partial alert"
  check slack "$work/${prefix}slack.jsonl" "$alert" || fail "$route: partial Slack message"

  # a host's trigger that refuses every client's counter update: each run fails (exit 1), its leads stay enrolled
  step "$route: every client's run forced to fail (exit 1)"
  db_sql "$db" "CREATE FUNCTION n8n_test_fail() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN RAISE EXCEPTION 'n8n test: forced failure'; END \$\$;
     CREATE TRIGGER n8n_test_fail AFTER UPDATE ON campaigns FOR EACH ROW EXECUTE FUNCTION n8n_test_fail();"
  execute "$route" "$route" failure alert slack
  check failed "$alert" || fail "$route: failure alert"
  check slack "$work/${prefix}slack.jsonl" "$alert" || fail "$route: failure Slack message"
  echo "  alert: $(tail -1 "$alert" | cut -c1-400)"
  db_sql "$db" "DROP TRIGGER n8n_test_fail ON campaigns"

  local left
  left=$(left_to_deenroll "$db")
  [ "$left" -gt 0 ] || fail "$route: nothing left to de-enroll for the succeeding run"
  step "$route: succeeding run ($left of $finished finished leads left)"
  execute "$route" "$route" success metric
  check metric "$work/${prefix}metric.jsonl" "$left" || fail "$route: metric"
  [ "$(left_to_deenroll "$db")" = 0 ] || fail "$route: leads still to de-enroll after the workflow ran"
  echo "  metric: $(tail -1 "$work/${prefix}metric.jsonl")"

  # six more failed runs of one client in the history: WARNING, failed runs
  step "$route: health-check path"
  db_sql "$db" "INSERT INTO de_enrollment_runs (id, invocation_id, client_id, run_type, status, budget_ms, finished_at)
     SELECT md5('run' || g)::uuid, md5('inv' || g)::uuid, (SELECT id FROM clients WHERE is_active ORDER BY id LIMIT 1),
            'scheduled', 'failed', 240000, now() FROM generate_series(1, 6) g;"
  execute "$route" "$route-health" health alert slack
  check health "$alert" || fail "$route: the health alert does not name the failing client by id with its next command"
  check slack "$work/${prefix}slack.jsonl" "$alert" || fail "$route: health Slack message"
  echo "  health alert: $(tail -1 "$alert" | cut -c1-300)"
}

prefix= scenario exec "$exec_db" "$exec_finished"
step "exec: Execute Command workflow passed"

prefix=ssh scenario ssh "$ssh_db" "$ssh_finished"
# every request of the SSH workflow carried its credential (grep -v: a line that is not it)
for endpoint in sshmetric sshalert; do
  if grep -qvx "Bearer $hook_token" "$work/$endpoint.auth"; then fail "$endpoint: a request without the webhook credential's header"; fi
done
if grep -qvx "Bearer $slack_token" "$work/sshslack.auth"; then fail "Slack: a request without the Slack credential's token"; fi
step "ssh: requests carried the credentials' header and token"

step "ssh: sshd stopped"
kill "$sshd_pid"; wait "$sshd_pid" 2>/dev/null || true
prefix=ssh execute ssh ssh unreachable alert slack
check unreachable "$work/sshalert.jsonl" "the command did not run" || fail "ssh: no alert that the command did not run"
echo "  alert: $(tail -1 "$work/sshalert.jsonl" | cut -c1-300)"
step "ssh: SSH workflow passed"

echo "n8n workflow test passed in $(($(date +%s) - start)) s"
