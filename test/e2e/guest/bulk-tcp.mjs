// Bulk TCP transfer for the `tcp-download` and `tcp-upload` scenarios (plain JavaScript: the guest's
// node runs it without a TypeScript loader, like exec-server.mjs). Both ends report what they
// moved, so the harness compares size and SHA-256 of the bytes sent with those received.
//   node bulk-tcp.mjs serve ADDRESS PORT BYTES READY_FILE TIMEOUT_S
//     listens on ADDRESS:PORT (READY_FILE appears once it does), sends BYTES pseudo-random bytes
//     to the first connection, closes, prints {"bytes","sha256","ms"} and exits; gives up after
//     TIMEOUT_S seconds (exit 2).
//   node bulk-tcp.mjs sink ADDRESS PORT READY_FILE TIMEOUT_S
//     listens likewise, reads the first connection until the peer closes, prints the same.
//   node bulk-tcp.mjs fetch ADDRESS PORT TIMEOUT_S
//     connects, reads until the server closes, prints {"bytes","sha256","ms"} (ms: connect to end).
//   node bulk-tcp.mjs push ADDRESS PORT BYTES TIMEOUT_S
//     connects, sends BYTES pseudo-random bytes, closes, prints the same once the server closed too.
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
const report = (bytes, hash, started) => {
  process.stdout.write(`${JSON.stringify({ bytes, sha256: hash.digest('hex'), ms: Date.now() - started })}\n`);
  process.exit(0);
};

/** Writes `total` fresh random bytes (not a repeated pattern: a misplaced segment changes the hash), then ends. */
function send(socket, total, started) {
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(64 * 1024);
  let sent = 0;
  socket.on('error', (error) => fail(String(error)));
  const pump = () => {
    while (sent < total) {
      const n = Math.min(chunk.length, total - sent);
      const piece = Buffer.from(randomFillSync(chunk, 0, n).subarray(0, n));
      hash.update(piece);
      sent += n;
      if (!socket.write(piece)) return void socket.once('drain', pump);
    }
    // Reported once the peer closed too: by then it has read every byte.
    socket.on('close', () => report(sent, hash, started));
    socket.end();
    socket.resume();
  };
  pump();
}

/** Reads until the peer closes. */
function receive(socket, started) {
  const hash = createHash('sha256');
  let received = 0;
  socket.on('data', (data) => {
    hash.update(data);
    received += data.length;
  });
  socket.on('error', (error) => fail(String(error)));
  socket.on('end', () => {
    socket.end();
    report(received, hash, started);
  });
}

function listen(readyFile, onConnection) {
  const server = createServer((socket) => {
    server.close(); // one transfer only
    onConnection(socket, Date.now());
  });
  server.on('error', (error) => fail(String(error)));
  server.listen(port, address, () => writeFileSync(readyFile, 'ready\n'));
}

if (mode === 'serve') {
  const [bytesText, readyFile, timeoutText] = rest;
  giveUpAfter(Number(timeoutText));
  listen(readyFile, (socket, started) => send(socket, Number(bytesText), started));
} else if (mode === 'sink') {
  const [readyFile, timeoutText] = rest;
  giveUpAfter(Number(timeoutText));
  listen(readyFile, receive);
} else if (mode === 'fetch') {
  const [timeoutText] = rest;
  giveUpAfter(Number(timeoutText));
  receive(connect(port, address), Date.now());
} else if (mode === 'push') {
  const [bytesText, timeoutText] = rest;
  giveUpAfter(Number(timeoutText));
  const started = Date.now();
  const socket = connect(port, address, () => send(socket, Number(bytesText), started));
  socket.on('error', (error) => fail(String(error)));
} else {
  fail('usage: bulk-tcp.mjs serve ADDRESS PORT BYTES READY_FILE TIMEOUT_S | sink ADDRESS PORT READY_FILE TIMEOUT_S | fetch ADDRESS PORT TIMEOUT_S | push ADDRESS PORT BYTES TIMEOUT_S');
}
