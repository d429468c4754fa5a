// Bulk TCP transfer for the `tcp-download` scenario (plain JavaScript: the guest's node runs it
// without a TypeScript loader, like exec-server.mjs). Both ends report what they moved, so the
// harness compares size and SHA-256 of the bytes sent with those received.
//   node bulk-tcp.mjs serve ADDRESS PORT BYTES READY_FILE TIMEOUT_S
//     listens on ADDRESS:PORT (READY_FILE appears once it does), sends BYTES pseudo-random bytes
//     to the first connection, closes, prints {"bytes","sha256","ms"} and exits; gives up after
//     TIMEOUT_S seconds (exit 2).
//   node bulk-tcp.mjs fetch ADDRESS PORT TIMEOUT_S
//     connects, reads until the server closes, prints {"bytes","sha256","ms"} (ms: connect to end).
import { createHash, randomFillSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

const [mode, address, portText, ...rest] = process.argv.slice(2);
const port = Number(portText);
const fail = (message) => {
  process.stderr.write(`bulk-tcp ${mode}: ${message}\n`);
  process.exit(2);
};
const giveUpAfter = (seconds) => setTimeout(() => fail(`no result within ${seconds} s`), seconds * 1000).unref();

if (mode === 'serve') {
  const [bytesText, readyFile, timeoutText] = rest;
  const total = Number(bytesText);
  giveUpAfter(Number(timeoutText));
  const server = createServer((socket) => {
    server.close(); // one download only
    const hash = createHash('sha256');
    const chunk = Buffer.allocUnsafe(64 * 1024);
    const started = Date.now();
    let sent = 0;
    socket.on('error', (error) => fail(String(error)));
    // Fresh random bytes per chunk (not a repeated pattern): a misplaced segment changes the hash.
    const pump = () => {
      while (sent < total) {
        const n = Math.min(chunk.length, total - sent);
        const piece = Buffer.from(randomFillSync(chunk, 0, n).subarray(0, n));
        hash.update(piece);
        sent += n;
        if (!socket.write(piece)) return void socket.once('drain', pump);
      }
      socket.end(() => {
        process.stdout.write(`${JSON.stringify({ bytes: sent, sha256: hash.digest('hex'), ms: Date.now() - started })}\n`);
        process.exit(0);
      });
    };
    pump();
  });
  server.on('error', (error) => fail(String(error)));
  server.listen(port, address, () => writeFileSync(readyFile, 'ready\n'));
} else if (mode === 'fetch') {
  const [timeoutText] = rest;
  giveUpAfter(Number(timeoutText));
  const hash = createHash('sha256');
  let received = 0;
  const started = Date.now();
  const socket = connect(port, address);
  socket.on('data', (data) => {
    hash.update(data);
    received += data.length;
  });
  socket.on('error', (error) => fail(String(error)));
  socket.on('end', () => {
    process.stdout.write(`${JSON.stringify({ bytes: received, sha256: hash.digest('hex'), ms: Date.now() - started })}\n`);
    process.exit(0);
  });
} else {
  fail('usage: bulk-tcp.mjs serve ADDRESS PORT BYTES READY_FILE TIMEOUT_S | fetch ADDRESS PORT TIMEOUT_S');
}
