#!/bin/sh
# Regenerates deenroll.classlist, the classes the launcher's class-data archive
# holds (see ../../../deenroll): what `deenroll demo` loads (migrate, a run, a
# health check on an embedded PostgreSQL), plus a JSON run report, an alert and --help.
# Run it after changing dependencies or adding many classes; a stale list only
# means the classes it misses load from the jar as usual.
set -eu
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
root=$(CDPATH= cd -- "$here/../../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
opts="-Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
"$root/deenroll" --version >/dev/null     # builds the jar when stale
DEENROLL_JAVA_OPTS="$opts -XX:DumpLoadedClassList=$tmp/demo" "$root/deenroll" demo >/dev/null 2>&1
# the JSON report of a run that cannot connect: the report's classes without a database
DEENROLL_JAVA_OPTS="$opts -XX:DumpLoadedClassList=$tmp/json" "$root/deenroll" run --output json \
  --database-url postgres://deenroll@127.0.0.1:1/none --connect-timeout 1000 >/dev/null 2>&1 || true
# a health check that cannot connect, alerting a webhook that is not there: the HTTP
# client and the alert payload's writer (ObjectMapper, which the run report, written
# with Jackson's streaming generator, no longer loads)
DEENROLL_JAVA_OPTS="$opts -XX:DumpLoadedClassList=$tmp/alert" "$root/deenroll" health-check --output json \
  --alert-webhook http://127.0.0.1:1/hook --database-url postgres://deenroll@127.0.0.1:1/none \
  --connect-timeout 1000 >/dev/null 2>&1 || true
DEENROLL_JAVA_OPTS="$opts -XX:DumpLoadedClassList=$tmp/help" "$root/deenroll" --help >/dev/null 2>&1
{
  echo "# deenroll's class list for -Xshare:dump, made by src/main/cds/regenerate.sh; do not edit by hand."
  cat "$tmp/demo" "$tmp/json" "$tmp/alert" "$tmp/help" | grep -v '^#' | awk '!seen[$0]++'
} > "$here/deenroll.classlist"
echo "$(grep -vc '^#' "$here/deenroll.classlist") classes in $here/deenroll.classlist"
