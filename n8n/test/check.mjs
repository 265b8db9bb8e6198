// What n8n/test/run.sh expects of the last request the listener recorded at
// an endpoint (the last line of <dir>/<endpoint>.jsonl), the same for both
// workflows:
//
//   node check.mjs metric  FILE LEADS     a success metric with LEADS de-enrolled
//   node check.mjs partial FILE           a warning: the budget ran out (exit 3)
//   node check.mjs failed  FILE           critical: each failed client by id, with its re-run command
//   node check.mjs health  FILE           the failed-runs finding names its client by id, with its next command
//   node check.mjs unreachable FILE TEXT  critical: the run did not start, TEXT says why
//   node check.mjs slack   FILE ALERTFILE the Slack text carries the last alert's message
//
// and of the two workflow files themselves:
//
//   node check.mjs same-routing WORKFLOW WORKFLOW   the same connections, and the same
//                                                   parsing, conditions and alerts
import { readFileSync } from 'node:fs';

const [what, file, arg] = process.argv.slice(2);

if (what === 'same-routing') {
  // the nodes that differ by route: where the tool runs and where the results go
  const ownNodes = ['Settings', 'Run De-enrollment', 'Health Check', 'Post Metric', 'Post Alert', 'Post to Slack'];
  const routing = (path) => {
    const wf = JSON.parse(readFileSync(path, 'utf8'));
    const shared = wf.nodes.filter((n) => !ownNodes.includes(n.name))
      .map((n) => ({ name: n.name, type: n.type, typeVersion: n.typeVersion, parameters: n.parameters, onError: n.onError }))
      .sort((a, b) => a.name.localeCompare(b.name));
    return JSON.stringify({ shared, connections: wf.connections });
  };
  if (routing(file) !== routing(arg)) {
    console.error(`${file} and ${arg} route the tool's results differently`);
    process.exit(1);
  }
  process.exit(0);
}
const last = (path) => JSON.parse(readFileSync(path, 'utf8').trim().split('\n').pop());

const checks = {
  metric: (m) => (m.status === 'success' && m.leadsDeEnrolled === Number(arg))
    || `expected status success and ${arg} leads de-enrolled`,
  partial: (a) => (a.severity === 'warning' && a.details.exitCode === 3 && /partial/.test(a.message))
    || 'expected a warning for a partial run (exit 3)',
  failed: (a) => {
    const ids = (a.details.clients || []).map((c) => c.clientId);
    if (a.severity !== 'critical' || a.details.exitCode !== 1 || !/failed/.test(a.message)) {
      return 'expected a critical alert for a failed run (exit 1)';
    }
    return (ids.length > 0 && ids.every((id) => a.message.includes(`(${id})`)
        && a.message.includes(`deenroll run --client-id=${id}`)))
      || 'expected each failed client named by id with its deenroll run --client-id=…';
  },
  health: (a) => {
    const f = (a.details.findings || []).find((x) => x.rule === 'failed_runs');
    return (f && f.clientId && f.clientName && new RegExp(`\\(${f.clientId}\\) has \\d+ failed runs`).test(a.message)
        && a.message.includes(`deenroll run --client-id=${f.clientId}`))
      || 'expected the failed-runs finding to name its client by id with its next command';
  },
  unreachable: (a) => (a.severity === 'critical' && a.details.exitCode === null
        && a.message.startsWith('De-enrollment run failed before processing') && a.message.includes(arg))
    || `expected a critical alert that the run did not start, saying ${arg}`,
  slack: (s) => s.text.includes(last(arg).message) || 'expected the Slack text to carry the alert message',
};

const request = last(file);
const verdict = checks[what](request);
if (verdict !== true) {
  console.error(`${what}: ${verdict}; got ${JSON.stringify(request).slice(0, 1500)}`);
  process.exit(1);
}
