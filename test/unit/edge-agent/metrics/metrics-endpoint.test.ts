/** The /metrics listener and the Broker wrapper that times authentications. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Broker } from '../../../../edge-agent/src/broker/broker-client';
import { BrokerCallAbandonedError, BrokerUnavailableError } from '../../../../edge-agent/src/broker/http-transport';
import { instrumentBroker, serveMetrics } from '../../../../edge-agent/src/metrics';

test('GET /metrics answers the text; other paths 404, other methods 405', async () => {
  const server = await serveMetrics({ render: async () => 'up 1\n', contentType: 'text/plain; version=0.0.4; charset=utf-8' }, { address: '127.0.0.1', port: 0 });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const ok = await fetch(`${base}/metrics`);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /version=0\.0\.4/);
    assert.equal(await ok.text(), 'up 1\n');
    assert.equal((await fetch(`${base}/`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  } finally {
    await server.close();
  }
});

test('a port in use is an error at start, not later', async () => {
  const first = await serveMetrics({ render: async () => '', contentType: 'text/plain' }, { address: '127.0.0.1', port: 0 });
  try {
    await assert.rejects(serveMetrics({ render: async () => '', contentType: 'text/plain' }, { address: '127.0.0.1', port: first.port }), /EADDRINUSE/);
  } finally {
    await first.close();
  }
});

test('authentications are timed by outcome; abandoned calls are not', async () => {
  const seen: [string, number][] = [];
  const beats: boolean[] = [];
  let clock = 0;
  let next: () => Promise<unknown> = async () => ({ ok: true });
  const broker = {
    authenticate: () => {
      clock += 40;
      return next();
    },
    heartbeat: () => next(),
  } as unknown as Broker;
  const wrapped = instrumentBroker(broker, { observeAuth: (o, s) => seen.push([o, s]), observeHeartbeat: (ok) => beats.push(ok) }, () => clock);
  const request = {} as Parameters<Broker['authenticate']>[0];
  await wrapped.authenticate(request);
  next = async () => ({ ok: false, reason: 'bad-credentials' });
  await wrapped.authenticate(request);
  next = async () => Promise.reject(new BrokerUnavailableError('down'));
  await assert.rejects(wrapped.authenticate(request));
  next = async () => Promise.reject(new BrokerCallAbandonedError('abandoned'));
  await assert.rejects(wrapped.authenticate(request));
  assert.deepEqual(seen, [['accepted', 0.04], ['refused', 0.04], ['unavailable', 0.04]]);
  next = async () => Promise.reject(new Error('x'));
  await assert.rejects(wrapped.heartbeat({} as Parameters<Broker['heartbeat']>[0]));
  assert.deepEqual(beats, [false]);
});
