/**
 * Issue 21: tunnel log lines. At info (the default) a routine tunnel (set up, closed with StopCCN)
 * writes no line of its own: a 'tunnel activity' line per minute counts them. Its own lines are at
 * debug; a tunnel that ends in trouble (peer unresponsive) still gets an info line.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { FakeTimers } from '../../../../edge-agent/src/clock';
import { decodeControlMessage, decodePacket, encodeControlMessage, encodePacket, L2tpDecodeError, type ControlMessage } from '../../../../edge-agent/src/l2tp';
import { TunnelManager } from '../../../../edge-agent/src/runtime/tunnels';
import { DEFAULT_TUNNEL_ACTIVITY_MS } from '../../../../edge-agent/src/runtime/tunnel-activity';

function setup(level: 'info' | 'debug') {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const timers = new FakeTimers();
  const sent: Uint8Array[] = [];
  let seed = 7;
  const tunnels = new TunnelManager({
    hostName: 'lns',
    random: (n) => Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff),
    timers,
    send: (bytes) => void sent.push(bytes),
    log,
    listener: { sessionRequested() {}, sessionEstablished() {}, sessionClosed() {} },
  });
  return { lines, timers, sent, tunnels };
}

type Setup = ReturnType<typeof setup>;
const control = (tunnelId: number, ns: number, nr: number, msg: ControlMessage) => Buffer.from(encodePacket({ isControl: true, tunnelId, sessionId: 0, ns, nr }, encodeControlMessage(msg)));

/** SCCRQ from `address`, SCCCN on the SCCRP: an established tunnel; returns our tunnel id. */
function establish(s: Setup, address: string): number {
  const remote = { address, port: 1701 };
  s.tunnels.onConnectRequest(control(0, 0, 0, { type: 'SCCRQ', protocolVersion: { version: 1, revision: 0 }, hostName: 'lac', framingCapabilities: 3, assignedTunnelId: 9, receiveWindowSize: 4 }), remote, 9);
  const reply = decodePacket(s.sent.at(-1)!);
  assert.ok(!(reply instanceof L2tpDecodeError));
  const sccrp = decodeControlMessage(reply.payload);
  assert.ok(!(sccrp instanceof L2tpDecodeError) && sccrp.type === 'SCCRP');
  const ours = sccrp.assignedTunnelId!;
  s.tunnels.onTunnelMessage(control(ours, 1, 1, { type: 'SCCCN' }), remote, ours);
  assert.equal(s.tunnels.get(ours)?.established, true);
  return ours;
}

const infoAndUp = (s: Setup) => s.lines.filter((l) => (l.level as number) >= 30);

describe('tunnel log lines (issue 21)', () => {
  test('at info, routine setups and StopCCNs write one activity line a minute, not a line per tunnel', () => {
    const s = setup('info');
    const peers = ['192.0.2.1', '192.0.2.2', '192.0.2.3'];
    const ids = peers.map((a) => establish(s, a));
    // Two peers say goodbye cleanly (StopCCN, §5.7); the third stays.
    for (const i of [0, 1]) s.tunnels.onTunnelMessage(control(ids[i]!, 2, 1, { type: 'StopCCN', assignedTunnelId: 9, resultCode: { resultCode: 1 } }), { address: peers[i]!, port: 1701 }, ids[i]!);
    assert.deepEqual(infoAndUp(s), [], 'no line per tunnel at info');
    s.timers.advance(DEFAULT_TUNNEL_ACTIVITY_MS);
    const activity = infoAndUp(s);
    assert.equal(activity.length, 1);
    assert.equal(activity[0]!.msg, 'tunnel activity');
    assert.equal(activity[0]!.established, 3);
    assert.equal(activity[0]!.closed, 2);
    assert.deepEqual(activity[0]!.closedBy, { 'peer-stopped': 2 });
    assert.equal(activity[0]!.tunnels, 1, 'tunnels now: the closed ones lingered 31 s (§5.7) and are gone');
    // The third peer goes too; the next line counts it alone.
    s.tunnels.onTunnelMessage(control(ids[2]!, 2, 1, { type: 'StopCCN', assignedTunnelId: 9, resultCode: { resultCode: 1 } }), { address: peers[2]!, port: 1701 }, ids[2]!);
    s.timers.advance(DEFAULT_TUNNEL_ACTIVITY_MS);
    assert.equal(infoAndUp(s).length, 2);
    assert.equal(infoAndUp(s)[1]!.established, 0);
    assert.equal(infoAndUp(s)[1]!.closed, 1);
    // Quiet minutes write nothing.
    s.timers.advance(5 * DEFAULT_TUNNEL_ACTIVITY_MS);
    assert.equal(infoAndUp(s).length, 2);
  });

  test('at debug, each tunnel has its own established and closed lines with its peer', () => {
    const s = setup('debug');
    const id = establish(s, '198.51.100.7');
    const up = s.lines.find((l) => l.msg === 'tunnel established');
    assert.equal(up?.level, 20);
    assert.equal(up?.peer, '198.51.100.7:1701');
    assert.equal(up?.tunnel, id);
    assert.equal(up?.peerHost, 'lac');
    s.tunnels.onTunnelMessage(control(id, 2, 1, { type: 'StopCCN', assignedTunnelId: 9, resultCode: { resultCode: 1 } }), { address: '198.51.100.7', port: 1701 }, id);
    const down = s.lines.find((l) => l.msg === 'tunnel closed');
    assert.equal(down?.level, 20);
    assert.equal(down?.reason, 'peer-stopped');
  });

  test('a tunnel whose peer stops answering still gets its own info line', () => {
    const s = setup('info');
    const id = establish(s, '203.0.113.5');
    // HELLO after 60 s of silence, never acknowledged: retransmitted, then the tunnel is given up (§5.8).
    s.timers.advance(60_000 + 40_000);
    const closed = infoAndUp(s).filter((l) => l.msg === 'tunnel closed');
    assert.equal(closed.length, 1);
    assert.equal(closed[0]!.reason, 'peer-unresponsive');
    assert.equal(closed[0]!.tunnel, id);
    assert.equal(closed[0]!.level, 30);
  });

  test('shutdown writes the pending activity at once, and leaves no timer behind', () => {
    const s = setup('info');
    establish(s, '192.0.2.9');
    s.tunnels.closeAll({ resultCode: 6 });
    s.tunnels.dispose();
    const activity = infoAndUp(s).filter((l) => l.msg === 'tunnel activity');
    assert.equal(activity.length, 1);
    assert.equal(activity[0]!.established, 1);
    assert.equal(s.timers.size, 0);
  });
});
