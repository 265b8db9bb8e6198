#!/usr/bin/env bash
# The opt-in end-to-end test of the Prometheus path, in Debian's programs:
# node_exporter's textfile collector reads --metrics-file, the Pushgateway
# receives --pushgateway, Prometheus scrapes both (every second) and evaluates
# deenroll.rules.yml; the test queries Prometheus' HTTP API for every series
# after a successful, a failed and a database-less run, and runs
# `promtool check rules` and `promtool test rules deenroll.rules.test.yml`.
# It is src/test/java/deenroll/prometheus (JUnit tag prometheus, the suite's
# embedded PostgreSQL), run by the Maven profile -Pprometheus.
#
#   apt-get install -y prometheus prometheus-node-exporter prometheus-pushgateway   # as root, once
#   deploy/prometheus/test.sh                                                        # about 30 s of tests
#
# Without the programs it says so and exits 0 (.ci/run calls it on every machine).
set -euo pipefail
cd "$(dirname "$0")/../.."

missing=()
for program in prometheus promtool prometheus-node-exporter prometheus-pushgateway; do
  command -v "$program" >/dev/null 2>&1 || [ -x "/usr/bin/$program" ] || missing+=("$program")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "deploy/prometheus/test.sh: SKIPPED, not installed: ${missing[*]}" \
       "(as root: apt-get install -y prometheus prometheus-node-exporter prometheus-pushgateway)" >&2
  exit 0
fi

exec ./mvnw -B test -Pprometheus "$@"
