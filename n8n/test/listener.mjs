// Records every POST to /<name> as a line of <dir>/<name>.jsonl, and its
// Authorization header as a line of <dir>/<name>.auth: the monitoring webhook,
// the alert webhook and Slack of the workflows under test.
import { createServer } from 'node:http';
import { appendFileSync, writeFileSync } from 'node:fs';

const [dir, portFile] = process.argv.slice(2);
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    const name = req.url.replace(/[^a-z]/g, '') || 'root';
    appendFileSync(`${dir}/${name}.jsonl`, body.replace(/\n/g, ' ') + '\n');
    appendFileSync(`${dir}/${name}.auth`, (req.headers.authorization || '') + '\n');
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"ok":true}');
  });
});
server.listen(0, '127.0.0.1', () => writeFileSync(portFile, String(server.address().port)));
