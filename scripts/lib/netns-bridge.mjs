// Runs inside DynamoDB Local's private network namespace (scripts/lib/dynamodb-local.ts): accepts
// connections on a Unix socket, which the host's processes can reach through the file system, and
// forwards each to 127.0.0.1:<port> inside the namespace, where DynamoDB Local listens. Plain
// JavaScript: it starts with `node` alone, before anything else in the namespace.
// Usage: node netns-bridge.mjs <socket path> <port>
import { chmodSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';

const [socketPath, portText] = process.argv.slice(2);
const port = Number(portText);
if (!socketPath || !(port > 0 && port < 65536)) {
  process.stderr.write('usage: node netns-bridge.mjs <socket path> <port>\n');
  process.exit(2);
}

const server = createServer((downstream) => {
  const upstream = connect(port, '127.0.0.1');
  downstream.pipe(upstream).pipe(downstream);
  downstream.on('error', () => upstream.destroy());
  upstream.on('error', () => downstream.destroy());
});
rmSync(socketPath, { force: true }); // left by a run that was killed
server.listen(socketPath, () => chmodSync(socketPath, 0o600));

// The shell that started us execs into DynamoDB Local: when that process goes, so do we.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 500).unref();
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 1 << 30);
