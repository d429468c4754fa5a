/** Full in-memory server <-> client runs for every auth method and every way a session ends. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ntPasswordHash, verifyChapMd5, verifyMsChapV2 } from '../../../../contract/src/ppp-auth';
import type { AuthMethod } from '../../../../functions/src/domain/types';
import { createPppClientCrypto, PPP_PROTOCOL, type PppAction, type PppTimings } from '../../../../edge-agent/src/ppp';
import { fakeRandom, LinkHarness, type HarnessOptions } from '../../../support/ppp/link-harness';

const PASSWORD = 'clientPass';

async function makeHarness(over: {
  serverMethods?: AuthMethod[];
  clientMethods?: AuthMethod[];
  password?: string;
  drop?: HarnessOptions['drop'];
  address?: HarnessOptions['address'];
  serverTimings?: Partial<PppTimings>;
  clientTimings?: Partial<PppTimings>;
}): Promise<LinkHarness> {
  const ntHash = await ntPasswordHash(PASSWORD);
  const password = over.password ?? PASSWORD;
  return new LinkHarness({
    server: { authMethods: over.serverMethods ?? ['mschapv2', 'chap-md5', 'pap'], random: fakeRandom(1), ...(over.serverTimings ? { timings: over.serverTimings } : {}) },
    client: {
      username: 'alice',
      password,
      crypto: await createPppClientCrypto(password),
      random: fakeRandom(2),
      authMethods: over.clientMethods,
      extraLcpOptions: [{ type: 13, data: Uint8Array.of(6) }], // Windows' callback option, must be rejected
      ...(over.clientTimings ? { timings: over.clientTimings } : {}),
    },
    drop: over.drop,
    address: over.address,
    async verify(a) {
      const m = a.material;
      if (m.method === 'pap') return { kind: 'auth-result', ok: a.username === 'alice' && m.password === PASSWORD };
      if (m.method === 'chap-md5')
        return { kind: 'auth-result', ok: verifyChapMd5({ id: m.identifier, secret: PASSWORD, challenge: m.challenge, response: m.response }) };
      const v = await verifyMsChapV2({
        ntHash,
        authenticatorChallenge: m.authenticatorChallenge,
        peerChallenge: m.peerChallenge,
        ntResponse: m.ntResponse,
        username: a.username,
      });
      return v.ok ? { kind: 'auth-result', ok: true, authenticatorResponse: v.authenticatorResponse } : { kind: 'auth-result', ok: false };
    },
  });
}

const linkUp = (h: LinkHarness, side: 'server' | 'client') =>
  h.actions(side, 'link-up') as Extract<PppAction, { kind: 'link-up' }>[];
const linkDown = (h: LinkHarness, side: 'server' | 'client') =>
  h.actions(side, 'link-down') as Extract<PppAction, { kind: 'link-down' }>[];

describe('server <-> client', () => {
  for (const method of ['mschapv2', 'chap-md5', 'pap'] as const) {
    test(`${method}: link-up with the broker's address on both sides`, async () => {
      const h = await makeHarness({ serverMethods: [method] });
      await h.run(() => h.server.linkUp && h.client.linkUp);
      const s = linkUp(h, 'server');
      const c = linkUp(h, 'client');
      assert.equal(s.length, 1);
      assert.equal(c.length, 1);
      assert.deepEqual(
        { address: s[0]?.address, gateway: s[0]?.gateway, dns: s[0]?.dns, user: s[0]?.username, method: s[0]?.authMethod },
        { address: '10.8.0.10', gateway: '10.8.0.1', dns: ['10.8.0.1', '10.8.0.2'], user: 'alice', method },
      );
      assert.deepEqual({ address: c[0]?.address, gateway: c[0]?.gateway, dns: c[0]?.dns }, { address: '10.8.0.10', gateway: '10.8.0.1', dns: ['10.8.0.1', '10.8.0.2'] });
      assert.equal(s[0]?.peerMru, 1400);
      assert.equal(s[0]?.peerPfc, true);
      const verify = h.actions('server', 'verify-credentials')[0] as Extract<PppAction, { kind: 'verify-credentials' }>;
      assert.equal(verify.method, method);
      assert.equal(verify.username, 'alice');
      assert.equal(linkDown(h, 'server').length, 0);
    });
  }

  test('auth negotiation walks the preference list when the client Naks (client only does PAP)', async () => {
    const h = await makeHarness({ clientMethods: ['pap'] });
    await h.run(() => h.server.linkUp);
    assert.equal(linkUp(h, 'server')[0]?.authMethod, 'pap');
  });

  test('no common auth method: link-down auth-failure', async () => {
    const h = await makeHarness({ serverMethods: ['mschapv2'], clientMethods: ['pap'] });
    await h.run();
    assert.deepEqual(linkDown(h, 'server'), [{ kind: 'link-down', reason: 'auth-failure' }]);
  });

  for (const method of ['mschapv2', 'chap-md5', 'pap'] as const) {
    test(`${method}: wrong password ends in Failure then auth-failure on both sides`, async () => {
      const h = await makeHarness({ serverMethods: [method], password: 'wrong' });
      await h.run();
      assert.deepEqual(linkDown(h, 'server'), [{ kind: 'link-down', reason: 'auth-failure' }]);
      assert.deepEqual(linkDown(h, 'client'), [{ kind: 'link-down', reason: 'auth-failure' }]);
      assert.equal(linkUp(h, 'server').length, 0);
    });
  }

  test('LCP echo timeout: a silent client is dropped with lcp-timeout after 4 misses', async () => {
    let silent = false;
    const h = await makeHarness({ drop: (from) => from === 'client' && silent });
    await h.run(() => h.server.linkUp);
    silent = true;
    await h.run();
    const echoes = h.log.filter((l) => l.side === 'server' && l.action.kind === 'send-frame' && l.action.payload[0] === 9);
    assert.equal(echoes.length, 4);
    assert.deepEqual(linkDown(h, 'server'), [{ kind: 'link-down', reason: 'lcp-timeout' }]);
    const down = h.log.find((l) => l.side === 'server' && l.action.kind === 'link-down');
    // 4 echoes 30 s apart, the 5th tick closes; then 2 Terminate-Requests 3 s apart.
    assert.equal(down?.at, h.log.find((l) => l.side === 'server' && l.action.kind === 'link-up')!.at + 5 * 30_000 + 2 * 3000);
  });

  test('echo keepalive answered: link stays up for many intervals', async () => {
    const h = await makeHarness({});
    await h.run(() => h.server.linkUp);
    await h.run(() => false, h.now + 10 * 30_000);
    assert.equal(linkDown(h, 'server').length, 0);
    assert.ok(h.actions('client', 'send-frame').some((a) => a.kind === 'send-frame' && a.protocol === PPP_PROTOCOL.LCP && a.payload[0] === 10));
  });

  const serverEchoes = (h: LinkHarness) => h.log.filter((l) => l.side === 'server' && l.action.kind === 'send-frame' && l.action.protocol === PPP_PROTOCOL.LCP && l.action.payload[0] === 9);

  test('adaptive echo: a client sending its own Echo-Requests is not probed, and its requests are answered', async () => {
    const h = await makeHarness({ serverTimings: { echoAdaptive: true }, clientTimings: { echoIntervalMs: 10_000 } });
    await h.run(() => h.server.linkUp);
    const upAt = h.now;
    await h.run(() => false, h.now + 10 * 30_000);
    assert.equal(linkDown(h, 'server').length, 0);
    assert.equal(serverEchoes(h).filter((l) => l.at > upAt).length, 0, 'no server Echo-Request while the client speaks');
    const replies = h.log.filter((l) => l.side === 'server' && l.action.kind === 'send-frame' && l.action.protocol === PPP_PROTOCOL.LCP && l.action.payload[0] === 10);
    assert.ok(replies.length >= 25, `server answered ${replies.length} client echoes`);
  });

  test('adaptive echo: a client that falls silent is probed and dropped within 5 echo periods of its last packet, like without', async () => {
    let silent = false;
    const h = await makeHarness({ serverTimings: { echoAdaptive: true }, clientTimings: { echoIntervalMs: 10_000 }, drop: (from) => from === 'client' && silent });
    await h.run(() => h.server.linkUp);
    await h.run(() => false, h.now + 95_000);
    const lastHeard = h.log.filter((l) => l.side === 'client' && l.action.kind === 'send-frame').at(-1)!.at;
    silent = true;
    const probesBefore = serverEchoes(h).length;
    await h.run();
    assert.equal(serverEchoes(h).length - probesBefore, 3, 'probes before the drop (the first silent tick counts as a miss)');
    assert.deepEqual(linkDown(h, 'server'), [{ kind: 'link-down', reason: 'lcp-timeout' }]);
    const down = h.log.find((l) => l.side === 'server' && l.action.kind === 'link-down')!;
    // Same bound as without adaptive echo, counted from the last packet heard: 5 periods + 2 Terminate-Requests.
    assert.ok(down.at - lastHeard <= 5 * 30_000 + 2 * 3000, `dropped ${down.at - lastHeard} ms after the last packet`);
    assert.ok(down.at - lastHeard > 4 * 30_000, 'not before 4 silent periods');
  });

  test('admin disconnect: server sends Terminate-Request, both sides go down once', async () => {
    const h = await makeHarness({});
    await h.run(() => h.server.linkUp);
    h.serverEvent({ kind: 'close', reason: 'admin-disconnect' });
    const term = h.actions('server', 'send-frame').at(-1);
    assert.ok(term?.kind === 'send-frame' && term.protocol === PPP_PROTOCOL.LCP && term.payload[0] === 5);
    await h.run();
    assert.deepEqual(linkDown(h, 'server'), [{ kind: 'link-down', reason: 'admin-disconnect' }]);
    assert.deepEqual(linkDown(h, 'client'), [{ kind: 'link-down', reason: 'user-request' }]);
    // Events after the end change nothing.
    h.serverEvent({ kind: 'close', reason: 'agent-shutdown' });
    assert.equal(linkDown(h, 'server').length, 1);
  });

  test('client-initiated terminate: server reports user-request', async () => {
    const h = await makeHarness({});
    await h.run(() => h.server.linkUp);
    h.clientEvent({ kind: 'close', reason: 'user-request' });
    await h.run();
    assert.deepEqual(linkDown(h, 'server'), [{ kind: 'link-down', reason: 'user-request' }]);
    assert.deepEqual(linkDown(h, 'client'), [{ kind: 'link-down', reason: 'user-request' }]);
  });

  test('address refused by the broker: Terminate, link-down pool-exhausted', async () => {
    const h = await makeHarness({ address: { refused: 'pool-exhausted' } });
    await h.run();
    assert.deepEqual(linkDown(h, 'server'), [{ kind: 'link-down', reason: 'pool-exhausted' }]);
    assert.equal(linkUp(h, 'server').length, 0);
  });

  test('lower layer gone: immediate link-down tunnel-closed, nothing sent', async () => {
    const h = await makeHarness({});
    await h.run(() => h.server.linkUp);
    const before = h.actions('server', 'send-frame').length;
    h.serverEvent({ kind: 'lower-down' });
    assert.deepEqual(linkDown(h, 'server'), [{ kind: 'link-down', reason: 'tunnel-closed' }]);
    assert.equal(h.actions('server', 'send-frame').length, before);
  });

  test('LCP never answered: link-down lcp-timeout after Max-Configure requests', async () => {
    const h = await makeHarness({ drop: (from) => from === 'client' });
    await h.run();
    const requests = h.log.filter((l) => l.side === 'server' && l.action.kind === 'send-frame' && l.action.payload[0] === 1);
    assert.equal(requests.length, 10);
    assert.deepEqual(linkDown(h, 'server'), [{ kind: 'link-down', reason: 'lcp-timeout' }]);
  });

  test('lost Challenge is retransmitted with the same identifier', async () => {
    let dropped = 0;
    const h = await makeHarness({
      serverMethods: ['mschapv2'],
      drop: (from, protocol, payload) => from === 'server' && protocol === PPP_PROTOCOL.CHAP && payload[0] === 1 && dropped++ < 2,
    });
    await h.run(() => h.server.linkUp);
    const challenges = h.actions('server', 'send-frame').filter((a) => a.kind === 'send-frame' && a.protocol === PPP_PROTOCOL.CHAP && a.payload[0] === 1);
    assert.equal(challenges.length, 3);
    assert.deepEqual(new Set(challenges.map((c) => (c.kind === 'send-frame' ? c.payload[1] : -1))).size, 1);
    assert.equal(linkUp(h, 'server').length, 1);
  });
});
