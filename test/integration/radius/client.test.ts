/**
 * The RADIUS UDP client over real loopback sockets: retransmission with the same Identifier and
 * bytes (RFC 5080 §2.2.1), failover along the ordered server list, a clear failure when every
 * server is silent, and forged answers (no Message-Authenticator, wrong secret, wrong identifier)
 * dropped so the exchange ends as "refused", never as a success.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import {
  Attr,
  encodeAccessRequest,
  integerAttribute,
  RadiusClient,
  RadiusCode,
  readInteger,
  textAttribute,
  type BuildRequest,
  type RadiusEndpoint,
} from '../../../functions/src/radius';
import { freeUdpPort } from '../../support/free-udp-port';
import { startFakeRadiusServer } from '../../support/radius/fake-radius-server';

const SECRET = Buffer.from('loopback-secret');
const build: BuildRequest = (server, identifier) =>
  encodeAccessRequest({
    identifier,
    secret: server.secret,
    requestAuthenticator: randomBytes(16),
    attributes: [textAttribute(Attr.UserName, 'alice')],
    password: Buffer.from('pw'),
  });
const endpoint = (port: number, over: Partial<RadiusEndpoint> = {}): RadiusEndpoint => ({
  host: '127.0.0.1',
  port,
  secret: SECRET,
  timeoutMs: 150,
  retries: 1,
  ...over,
});

describe('RADIUS client over UDP', () => {
  const client = new RadiusClient();
  after(() => client.close());

  test('an answer that verifies ends the exchange', async () => {
    const server = await startFakeRadiusServer(SECRET, () => ({ code: RadiusCode.AccessAccept, attributes: [integerAttribute(Attr.SessionTimeout, 60)] }));
    try {
      const r = await client.exchange([endpoint(server.port)], build);
      assert.ok(r.ok);
      assert.equal(r.packet.code, RadiusCode.AccessAccept);
      assert.equal(readInteger(r.packet, Attr.SessionTimeout), 60);
      assert.equal(r.serverIndex, 0);
    } finally {
      await server.close();
    }
  });

  test('a lost request is retransmitted with the same Identifier and the same bytes (RFC 5080 §2.2.1)', async () => {
    let seen = 0;
    const server = await startFakeRadiusServer(SECRET, () => (++seen === 1 ? undefined : { code: RadiusCode.AccessAccept }));
    try {
      const r = await client.exchange([endpoint(server.port, { retries: 2 })], build);
      assert.ok(r.ok);
      assert.equal(server.received.length, 2);
      assert.deepEqual(server.received[0], server.received[1]);
      assert.equal(r.attempts[0]!.transmissions, 2);
    } finally {
      await server.close();
    }
  });

  test('a silent first server fails over to the second; both silent is a clear no-answer', async () => {
    const deadPort = await freeUdpPort();
    const silent = await startFakeRadiusServer(SECRET, () => undefined);
    const good = await startFakeRadiusServer(SECRET, () => ({ code: RadiusCode.AccessReject }));
    try {
      const r = await client.exchange([endpoint(silent.port), endpoint(good.port)], build);
      assert.ok(r.ok);
      assert.equal(r.serverIndex, 1);
      assert.equal(r.packet.code, RadiusCode.AccessReject);
      assert.equal(silent.received.length, 2, 'first transmission and one retry');
      assert.deepEqual(r.attempts.map((a) => a.outcome), ['timeout', 'answered']);
      // The second server got a request built for it, with its own Identifier space.
      const down = await client.exchange([endpoint(silent.port), endpoint(deadPort)], build);
      assert.equal(down.ok, false);
      assert.ok(!down.ok && down.reason === 'no-answer');
      assert.deepEqual(!down.ok && down.attempts.map((a) => a.outcome), ['timeout', 'timeout']);
    } finally {
      await silent.close();
      await good.close();
    }
  });

  const forgeries: [string, Parameters<typeof startFakeRadiusServer>[1], string][] = [
    ['no Message-Authenticator', () => ({ code: RadiusCode.AccessAccept, messageAuthenticator: false }), 'missing-message-authenticator'],
    ['signed with the wrong secret', () => ({ code: RadiusCode.AccessAccept, secret: Buffer.from('guessed') }), 'bad-message-authenticator'],
  ];
  for (const [name, answer, code] of forgeries) {
    test(`an Access-Accept with ${name} is refused, never a success`, async () => {
      const server = await startFakeRadiusServer(SECRET, answer);
      try {
        const r = await client.exchange([endpoint(server.port, { retries: 0 })], build);
        assert.ok(!r.ok);
        assert.equal(r.reason, 'refused');
        assert.deepEqual(r.attempts[0]!.refusals, [code]);
      } finally {
        await server.close();
      }
    });
  }

  test('an answer with another Identifier matches nothing: dropped, the exchange times out', async () => {
    const server = await startFakeRadiusServer(SECRET, (req) => ({ code: RadiusCode.AccessAccept, identifier: (req.identifier + 1) & 0xff }));
    try {
      const r = await client.exchange([endpoint(server.port, { retries: 0 })], build);
      assert.ok(!r.ok);
      assert.equal(r.reason, 'no-answer');
    } finally {
      await server.close();
    }
  });

  test('concurrent exchanges to one server get distinct Identifiers and each its own answer', async () => {
    const server = await startFakeRadiusServer(SECRET, (req) => ({ code: RadiusCode.AccessAccept, attributes: [integerAttribute(Attr.SessionTimeout, req.identifier)] }));
    try {
      const results = await Promise.all(Array.from({ length: 40 }, () => client.exchange([endpoint(server.port)], build)));
      const ids = server.received.map((b) => b[1]);
      assert.equal(new Set(ids).size, 40);
      for (const r of results) assert.ok(r.ok);
    } finally {
      await server.close();
    }
  });

  test('a request that cannot be encoded is an encode-error, nothing is sent', async () => {
    const server = await startFakeRadiusServer(SECRET, () => ({ code: RadiusCode.AccessAccept }));
    try {
      const r = await client.exchange([endpoint(server.port, { secret: Buffer.alloc(0) })], build);
      assert.ok(!r.ok && r.reason === 'encode-error' && r.error?.code === 'bad-secret');
      assert.equal(server.received.length, 0);
    } finally {
      await server.close();
    }
  });
});
