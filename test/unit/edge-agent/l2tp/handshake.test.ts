import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePacket, decodeControlMessage, isL2tpDecodeError, isTunnelDone, type TunnelAction } from '../../../../edge-agent/src/l2tp/index';
import { Harness } from '../../../support/l2tp/harness';
import { ascii } from '../../../support/l2tp/bytes';

function established(h: Harness, side: 'lac' | 'lns') {
  return h.ends[side].events.filter((e): e is Extract<TunnelAction, { kind: 'session-established' }> => e.kind === 'session-established');
}

/** Message types a side transmitted (ZLBs as 'ZLB'). */
function sentTypes(h: Harness, side: 'lac' | 'lns'): string[] {
  return h.ends[side].sent.map((b) => {
    const p = decodePacket(b);
    if (isL2tpDecodeError(p)) return 'bad';
    if (p.payload.length === 0) return 'ZLB';
    const m = decodeControlMessage(p.payload);
    return isL2tpDecodeError(m) ? 'bad' : m.type;
  });
}

describe('LAC <-> LNS in memory', () => {
  test('tunnel, two sessions, CDN from each side, StopCCN', () => {
    const h = new Harness();
    h.feed('lac', { kind: 'open' });
    h.feed('lac', { kind: 'place-call', callingNumber: '192.0.2.7' });
    h.feed('lac', { kind: 'place-call' });
    h.run(1000);
    assert.equal(h.ends.lac.state.phase, 'established');
    assert.equal(h.ends.lns.state.phase, 'established');
    assert.equal(h.ends.lns.state.peerTunnelId, 100);
    assert.equal(h.ends.lac.state.peerTunnelId, 200);
    assert.equal(h.ends.lns.state.peer.hostName, 'lac');
    const lnsUp = established(h, 'lns');
    const lacUp = established(h, 'lac');
    assert.equal(lnsUp.length, 2);
    assert.equal(lacUp.length, 2);
    // Each side's local id is the other's peer id.
    for (const up of lnsUp) {
      assert.ok(lacUp.some((l) => l.localSessionId === up.peerSessionId && l.peerSessionId === up.localSessionId));
    }
    const requested = h.ends.lns.events.find((e) => e.kind === 'session-requested');
    assert.equal(requested?.kind === 'session-requested' && requested.callingNumber, '192.0.2.7');
    assert.deepEqual(sentTypes(h, 'lac').filter((t) => t !== 'ZLB'), ['SCCRQ', 'SCCCN', 'ICRQ', 'ICRQ', 'ICCN', 'ICCN']);
    assert.deepEqual(sentTypes(h, 'lns').filter((t) => t !== 'ZLB'), ['SCCRP', 'ICRP', 'ICRP']);

    // LNS clears the first session, LAC clears the second.
    const [first, second] = lnsUp as [(typeof lnsUp)[0], (typeof lnsUp)[0]];
    h.feed('lns', { kind: 'close-session', localSessionId: first.localSessionId, resultCode: 3 });
    h.feed('lac', { kind: 'close-session', localSessionId: second.peerSessionId });
    h.run(1000);
    const lacClosed = h.ends.lac.events.filter((e) => e.kind === 'session-closed');
    const lnsClosed = h.ends.lns.events.filter((e) => e.kind === 'session-closed');
    assert.deepEqual(lacClosed.map((e) => e.kind === 'session-closed' && e.reason).sort(), ['local', 'peer-disconnected']);
    assert.deepEqual(lnsClosed.map((e) => e.kind === 'session-closed' && e.reason).sort(), ['local', 'peer-disconnected']);
    const peerCdn = lacClosed.find((e) => e.kind === 'session-closed' && e.reason === 'peer-disconnected');
    assert.equal(peerCdn?.kind === 'session-closed' && peerCdn.resultCode?.resultCode, 3);
    assert.deepEqual(Object.keys(h.ends.lns.state.sessions), []);

    h.feed('lac', { kind: 'close-tunnel', resultCode: 1 });
    h.run(1000);
    assert.ok(isTunnelDone(h.ends.lac.state), 'LAC done after StopCCN acked');
    assert.ok(isTunnelDone(h.ends.lns.state));
    const closed = h.ends.lns.events.find((e) => e.kind === 'tunnel-closed');
    assert.equal(closed?.kind === 'tunnel-closed' && closed.reason, 'peer-stopped');
    assert.equal(h.ends.lac.timers.size, 0, 'no timers left on the LAC');
  });

  test('StopCCN from the LNS clears its sessions', () => {
    const h = new Harness();
    h.feed('lac', { kind: 'open' });
    h.feed('lac', { kind: 'place-call' });
    h.run(500);
    h.feed('lns', { kind: 'close-tunnel', resultCode: 6 });
    h.run(500);
    assert.deepEqual(h.kinds('lac').slice(-2), ['session-closed', 'tunnel-closed']);
    assert.ok(isTunnelDone(h.ends.lns.state));
  });

  test('tunnel authentication with a shared secret', () => {
    const secret = ascii('shared');
    const h = new Harness({ lac: { secret }, lns: { secret } });
    h.feed('lac', { kind: 'open' });
    h.run(500);
    assert.equal(h.ends.lns.state.phase, 'established');
    assert.equal(h.ends.lac.state.phase, 'established');
  });

  test('wrong secret: LNS refuses with StopCCN result 4', () => {
    const h = new Harness({ lac: { secret: ascii('a') }, lns: { secret: ascii('b') } });
    h.feed('lac', { kind: 'open' });
    h.run(500);
    const closed = h.ends.lac.events.find((e) => e.kind === 'tunnel-closed');
    assert.equal(closed?.kind === 'tunnel-closed' && closed.reason, 'auth-failed', 'LAC rejects the LNS response first');
    assert.equal(h.ends.lns.events.find((e) => e.kind === 'tunnel-closed')?.kind, 'tunnel-closed');
  });

  test('LNS with a secret refuses a LAC that cannot answer the challenge', () => {
    const h = new Harness({ lns: { secret: ascii('b') } });
    h.feed('lac', { kind: 'open' });
    h.run(500);
    const closed = h.ends.lac.events.find((e) => e.kind === 'tunnel-closed');
    assert.ok(closed?.kind === 'tunnel-closed');
    assert.equal(closed.reason, 'auth-failed');
    assert.equal(closed.resultCode?.resultCode, 4);
  });

  test('broker rejection sends CDN and the LAC sees the call cleared', () => {
    const h = new Harness({ autoAccept: false });
    h.feed('lac', { kind: 'open' });
    h.feed('lac', { kind: 'place-call' });
    h.run(500);
    const req = h.ends.lns.events.find((e) => e.kind === 'session-requested');
    assert.ok(req?.kind === 'session-requested');
    h.feed('lns', { kind: 'reject-session', localSessionId: req.localSessionId, resultCode: 4, errorMessage: 'no capacity' });
    h.run(500);
    const closed = h.ends.lac.events.find((e) => e.kind === 'session-closed');
    assert.ok(closed?.kind === 'session-closed');
    assert.equal(closed.reason, 'peer-disconnected');
    assert.deepEqual(closed.resultCode, { resultCode: 4, errorCode: 0, errorMessage: 'no capacity' });
  });

  test('HELLO after silence; a peer that never sends HELLO is fine; a dead peer closes the tunnel', () => {
    const h = new Harness({ lac: { helloIntervalMs: 3_600_000 }, lns: { helloIntervalMs: 60_000 } });
    h.feed('lac', { kind: 'open' });
    h.run(500);
    h.run(130_000);
    const lnsHellos = sentTypes(h, 'lns').filter((t) => t === 'HELLO').length;
    assert.equal(lnsHellos, 2);
    assert.equal(sentTypes(h, 'lac').filter((t) => t === 'HELLO').length, 0, 'LAC never says HELLO');
    assert.equal(h.ends.lns.state.phase, 'established');
    // Now the LAC goes silent for good: the LNS HELLO is never acked and the tunnel is declared dead.
    const dead = new Harness({ lns: { helloIntervalMs: 60_000 }, filter: (from, _b, i) => (from === 'lac' && i >= 2 ? 'drop' : 'pass') });
    dead.feed('lac', { kind: 'open' });
    dead.run(200_000);
    const closed = dead.ends.lns.events.find((e) => e.kind === 'tunnel-closed');
    assert.equal(closed?.kind === 'tunnel-closed' && closed.reason, 'peer-unresponsive');
  });
});
