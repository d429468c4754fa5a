// Guest side of the e2e harness: a tiny HTTP command server, run by init.sh inside the UML guest
// (plain JavaScript: the guest's node runs it without a TypeScript loader). The host drives every
// scenario through it: POST /exec runs a shell script in one namespace (entered through its anchor
// process) and answers with exit code, output and duration; POST /shutdown ends the guest.
// Bound to the guest's TAP address only and guarded by a per-run token.
//   usage: node exec-server.mjs ADDRESS PORT TOKEN_FILE     env ANCHORS="server:PID c1:PID ..."
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [address, port, tokenFile] = process.argv.slice(2);
const token = readFileSync(tokenFile, 'utf8').trim();
const anchors = new Map(
  (process.env.ANCHORS ?? '').trim().split(/\s+/).map((pair) => [pair.split(':')[0], pair.split(':')[1]]),
);
anchors.set('guest', '1');
const MAX_OUTPUT = 256 * 1024;

function run({ ns, sh, stdin, timeoutMs }) {
  const pid = anchors.get(ns);
  if (!pid) return Promise.resolve({ code: 127, stdout: '', stderr: `unknown namespace ${ns}`, ms: 0, timedOut: false });
  const started = Date.now();
  const child = spawn('nsenter', ['-t', pid, '-m', '-n', '--', 'sh', '-c', sh], { detached: true });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout.on('data', (d) => { if (stdout.length < MAX_OUTPUT) stdout += d; });
  child.stderr.on('data', (d) => { if (stderr.length < MAX_OUTPUT) stderr += d; });
  child.stdin.on('error', () => {});
  child.stdin.end(stdin ?? '');
  const timer = setTimeout(() => {
    timedOut = true;
    try { process.kill(-child.pid, 'SIGKILL'); } catch {}
  }, timeoutMs ?? 30000);
  return new Promise((resolve) => {
    child.on('error', (error) => { clearTimeout(timer); resolve({ code: 126, stdout, stderr: String(error), ms: Date.now() - started, timedOut }); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, signal, stdout, stderr, ms: Date.now() - started, timedOut });
    });
  });
}

const server = createServer((req, res) => {
  const reply = (status, body) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
  if (req.headers['x-e2e-token'] !== token) return reply(401, { error: 'token' });
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', async () => {
    if (req.url === '/ping') return reply(200, { ok: true, anchors: Object.fromEntries(anchors) });
    if (req.url === '/shutdown') { reply(200, { ok: true }); server.close(); setTimeout(() => process.exit(0), 100); return; }
    if (req.url !== '/exec' || req.method !== 'POST') return reply(404, { error: 'route' });
    try { reply(200, await run(JSON.parse(body))); } catch (error) { reply(400, { error: String(error) }); }
  });
});
server.listen(Number(port), address, () => console.log(`exec server on ${address}:${port}, anchors ${[...anchors.keys()].join(' ')}`));
