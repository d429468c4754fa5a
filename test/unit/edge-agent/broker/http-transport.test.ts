import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerCallAbandonedError, BrokerRejectedError, BrokerUnavailableError, HttpTransport } from '../../../../edge-agent/src/broker/http-transport';

/** A real HTTP server on loopback whose behaviour each test scripts. */
async function serve(handler: Parameters<typeof createServer>[1], t: { after(fn: () => unknown): void }): Promise<string> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

const noSleep = { sleep: async () => {}, random: () => 0.5 };

/**
 * A server that records each request's path and holds every answer until `release()`; then the
 * gate stays open until `hold()` closes it again. Lets a test fill the transport's queue.
 */
async function gatedServer(t: { after(fn: () => unknown): void }) {
  const received: string[] = [];
  let open: () => void = () => {};
  let gate = Promise.resolve();
  const hold = () => void (gate = new Promise<void>((resolve) => (open = resolve)));
  hold();
  const baseUrl = await serve((req, res) => {
    received.push(req.url ?? '');
    void gate.then(() => res.end('{}'));
  }, t);
  const firstArrived = async () => {
    while (received.length === 0) await new Promise((r) => setTimeout(r, 5));
  };
  return { baseUrl, received, release: () => open(), hold, firstArrived };
}

test('sends the bearer token and JSON body, parses the JSON answer', async (t) => {
  let seen: { auth?: string; body?: string } = {};
  const baseUrl = await serve((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen = { auth: req.headers.authorization, body };
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
  }, t);
  const transport = new HttpTransport({ baseUrl, token: 'tba_x_y', ...noSleep });
  assert.deepEqual(await transport.post('/v1/agent/heartbeat', { a: 1 }), { ok: true });
  assert.equal(seen.auth, 'Bearer tba_x_y');
  assert.equal(seen.body, '{"a":1}');
});

test('retries 503 and succeeds; a 4xx is final and carries the broker\'s code', async (t) => {
  let calls = 0;
  const baseUrl = await serve((req, res) => {
    calls++;
    if (req.url === '/flaky' && calls < 3) return void res.writeHead(503).end();
    if (req.url === '/bad') return void res.writeHead(409).end('{"error":{"code":"pool-exhausted","message":"no address"}}');
    res.end('{"n":1}');
  }, t);
  const transport = new HttpTransport({ baseUrl, token: 't', ...noSleep });
  assert.deepEqual(await transport.get('/flaky'), { n: 1 });
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(transport.post('/bad', {}), (e: unknown) => e instanceof BrokerRejectedError && e.code === 'pool-exhausted' && e.status === 409);
  assert.equal(calls, 1);
});

test('an unreachable broker gives BrokerUnavailableError after the configured attempts', async () => {
  const delays: number[] = [];
  const transport = new HttpTransport({
    baseUrl: 'http://127.0.0.1:1',
    token: 't',
    attempts: 3,
    baseDelayMs: 100,
    random: () => 0.999,
    sleep: async (ms) => void delays.push(ms),
  });
  await assert.rejects(transport.get('/v1/agent/settings'), BrokerUnavailableError);
  assert.deepEqual(delays, [99, 199]);
});

test('a slow broker times out, and an oversized answer is refused', async (t) => {
  const baseUrl = await serve((req, res) => {
    if (req.url === '/slow') return void setTimeout(() => res.end('{}'), 2_000);
    res.end(`"${'x'.repeat(5_000)}"`);
  }, t);
  const impatient = new HttpTransport({ baseUrl, token: 't', timeoutMs: 100, attempts: 1 });
  await assert.rejects(impatient.get('/slow'), BrokerUnavailableError);
  const bounded = new HttpTransport({ baseUrl, token: 't', timeoutMs: 10_000, attempts: 1, maxResponseBytes: 1_000 });
  await assert.rejects(bounded.get('/big'), /exceeds the 1000-byte limit/);
});

test('at most maxInFlight requests on the wire; the queued ones wait without timing out (reconnect storm)', async (t) => {
  let active = 0;
  let peak = 0;
  const baseUrl = await serve((_req, res) => {
    active++;
    peak = Math.max(peak, active);
    // Each answer takes 100 ms: 12 requests through 3 slots need ~400 ms, longer than the 300 ms
    // timeout, which still leaves a loaded machine 3x the answer time for each request.
    setTimeout(() => {
      active--;
      res.end('{"ok":true}');
    }, 100);
  }, t);
  const transport = new HttpTransport({ baseUrl, token: 't', maxInFlight: 3, timeoutMs: 300, ...noSleep });
  const calls = Array.from({ length: 12 }, () => transport.post('/v1/agent/authenticate', {}, { retry: false }));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(transport.queued, 9);
  const results = await Promise.all(calls);
  assert.equal(results.length, 12);
  assert.ok(results.every((r) => (r as { ok: boolean }).ok));
  assert.equal(peak, 3);
  assert.equal(transport.queued, 0);
});

test('a high-priority request queued behind normal ones gets the next free slot (session starts and heartbeats before new authentications)', async (t) => {
  const order: string[] = [];
  const baseUrl = await serve((req, res) => {
    order.push(req.url ?? '');
    setTimeout(() => res.end('{"ok":true}'), 30);
  }, t);
  const transport = new HttpTransport({ baseUrl, token: 't', maxInFlight: 2, ...noSleep });
  const auths = Array.from({ length: 6 }, (_, i) => transport.post(`/auth/${i}`, {}, { retry: false }));
  await new Promise((r) => setTimeout(r, 5));
  const start = transport.post('/start', {}, { priority: 'high' });
  const heartbeat = transport.post('/heartbeat', {}, { priority: 'high' });
  assert.equal(transport.queued, 6);
  await Promise.all([...auths, start, heartbeat]);
  // Two auths were already on the wire; the two high ones take the next two slots. They leave on two
  // parallel connections, so the server may see them in either order.
  assert.deepEqual(order.slice(0, 2), ['/auth/0', '/auth/1']);
  assert.deepEqual(order.slice(2, 4).sort(), ['/heartbeat', '/start']);
  assert.deepEqual(order.slice(4), ['/auth/2', '/auth/3', '/auth/4', '/auth/5']);
});

test('an oversized answer without a declared length is cut off; an unreachable broker is "unavailable"', async (t) => {
  const baseUrl = await serve((_req, res) => {
    res.write('"');
    res.write('x'.repeat(4_000)); // chunked: no content-length to refuse up front
    res.end('"');
  }, t);
  const bounded = new HttpTransport({ baseUrl, token: 't', attempts: 1, maxResponseBytes: 1_000 });
  await assert.rejects(bounded.get('/chunked'), /exceeds the 1000-byte limit/);

  const gone = new HttpTransport({ baseUrl: 'http://127.0.0.1:1', token: 't', attempts: 1 }); // nothing listens on port 1
  await assert.rejects(gone.get('/x'), (error: Error) => error instanceof BrokerUnavailableError && /ECONNREFUSED/.test(error.message));
});

test('sequential requests reuse one keep-alive connection', async (t) => {
  const sockets = new Set<unknown>();
  const baseUrl = await serve((req, res) => {
    sockets.add(req.socket);
    res.end('{}');
  }, t);
  const transport = new HttpTransport({ baseUrl, token: 't' });
  for (let i = 0; i < 5; i++) await transport.post('/v1/agent/heartbeat', { i });
  assert.equal(sockets.size, 1);
});

test('a queued request nobody wants any more when its turn comes is dropped unsent (reconnect storm)', async (t) => {
  const server = await gatedServer(t);
  const transport = new HttpTransport({ baseUrl: server.baseUrl, token: 't', maxInFlight: 1, ...noSleep });
  let clientGaveUp = false;
  const first = transport.post('/first', {});
  const abandoned = transport.post('/abandoned', {}, { retry: false, wanted: () => !clientGaveUp });
  const kept = transport.post('/kept', {}, { wanted: () => true });
  await server.firstArrived();
  clientGaveUp = true; // the client hung up while its request waited for a slot
  server.release();
  await first;
  await assert.rejects(abandoned, BrokerCallAbandonedError);
  await kept;
  assert.deepEqual(server.received, ['/first', '/kept']);
});

test('newest-first requests: first come first served while the backlog is young, newest first once it is old', async (t) => {
  const server = await gatedServer(t);
  let clock = 0;
  const transport = new HttpTransport({ baseUrl: server.baseUrl, token: 't', maxInFlight: 1, now: () => clock, ...noSleep });
  const calls = [transport.post('/busy', {})];
  await server.firstArrived();
  calls.push(transport.post('/auth-1', {}, { newestFirst: true }));
  calls.push(transport.post('/auth-2', {}, { newestFirst: true }));
  calls.push(transport.post('/stop', {}));
  calls.push(transport.post('/auth-3', {}, { newestFirst: true }));
  calls.push(transport.post('/start', {}, { priority: 'high' }));
  assert.equal(transport.queued, 5);
  clock = 20_000; // auth-1..3 have waited 20 s: a backlog clients may give up on
  server.release();
  await Promise.all(calls);
  assert.deepEqual(server.received, ['/busy', '/start', '/stop', '/auth-3', '/auth-2', '/auth-1']);

  server.received.length = 0;
  server.hold();
  const young = [transport.post('/busy', {})];
  await server.firstArrived();
  for (const n of [1, 2, 3]) young.push(transport.post(`/auth-${n}`, {}, { newestFirst: true }));
  clock += 19_999; // young backlog: fair order
  server.release();
  await Promise.all(young);
  assert.deepEqual(server.received, ['/busy', '/auth-1', '/auth-2', '/auth-3']);
});

test('a request already sent is retried even when nobody wants it any more: the broker may have acted on it', async (t) => {
  let hits = 0;
  const baseUrl = await serve((_req, res) => {
    hits++;
    if (hits === 1) return void setTimeout(() => res.end('{}'), 300); // answered too late: timed out
    res.end('{"sessionId":"s1"}');
  }, t);
  const transport = new HttpTransport({ baseUrl, token: 't', timeoutMs: 100, ...noSleep });
  let ended = false;
  const started = transport.post<{ sessionId: string }>('/v1/agent/sessions', {}, {
    wanted: () => {
      const answer = !ended;
      ended = true; // the session ends right after the first send
      return answer;
    },
  });
  assert.deepEqual(await started, { sessionId: 's1' });
  assert.equal(hits, 2);
});

test('background requests (stop reports) go after everything else, and get a share of the slots once they have waited 30 s', async (t) => {
  const server = await gatedServer(t);
  let clock = 0;
  const transport = new HttpTransport({ baseUrl: server.baseUrl, token: 't', maxInFlight: 1, now: () => clock, ...noSleep });
  const calls = [transport.post('/busy', {})];
  await server.firstArrived();
  calls.push(transport.post('/stop-1', {}, { priority: 'background' }));
  calls.push(transport.post('/auth-1', {}, { newestFirst: true }));
  calls.push(transport.post('/normal', {}));
  calls.push(transport.post('/start', {}, { priority: 'high' }));
  server.release();
  await Promise.all(calls);
  assert.deepEqual(server.received, ['/busy', '/start', '/normal', '/auth-1', '/stop-1']);

  // A storm: 20 authentications and 2 stops queued; the stops have waited 30 s, so every 8th
  // hand-off is theirs instead of waiting for the authentications to drain.
  server.received.length = 0;
  server.hold();
  const storm = [transport.post('/busy', {})];
  await server.firstArrived();
  storm.push(transport.post('/stop-a', {}, { priority: 'background' }), transport.post('/stop-b', {}, { priority: 'background' }));
  for (let i = 0; i < 20; i++) storm.push(transport.post(`/auth-${i}`, {}));
  clock += 30_000;
  server.release();
  await Promise.all(storm);
  assert.equal(server.received.indexOf('/stop-a'), 8);
  assert.equal(server.received.indexOf('/stop-b'), 16);
  assert.equal(server.received.length, 23);
});

test('socketPath: the broker is reached over a Unix socket, the URL only names host and path', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'broker-sock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const socketPath = join(dir, 'broker.sock');
  const seen: { host?: string; path?: string }[] = [];
  const server = createServer((req, res) => {
    seen.push({ host: req.headers.host, path: req.url });
    res.end('{"over":"unix"}');
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  // Nothing listens on this TCP port: only the socket can answer.
  const transport = new HttpTransport({ baseUrl: 'http://broker.invalid:9', socketPath, token: 'tba_x_y', ...noSleep });
  assert.deepEqual(await transport.get('/v1/agent/settings'), { over: 'unix' });
  assert.deepEqual(seen, [{ host: 'broker.invalid:9', path: '/v1/agent/settings' }]);
  const overTcp = new HttpTransport({ baseUrl: 'http://127.0.0.1:9', token: 'tba_x_y', attempts: 1, ...noSleep });
  await assert.rejects(overTcp.get('/v1/agent/settings'), BrokerUnavailableError, 'negative control: without the socket nothing answers');
});
