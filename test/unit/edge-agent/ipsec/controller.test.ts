import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createIpsecController,
  IpsecConfigError,
  IpsecUnavailableError,
  l2tpConnMessage,
  l2tpPskMessage,
  PSK_SECRET_ID,
  type IpsecController,
  type IpsecControllerOptions,
  type SaEvent,
} from '../../../../edge-agent/src/ipsec';
import { childUpdownMessage, ikeUpdownMessage, listSaMessage, type IkeFixture } from '../../../support/ipsec/sa-fixtures';
import { connectVici, type ViciMessage } from '../../../../edge-agent/src/vici';
import { startFakeViciServer, type FakeCommandHandler, type FakeViciServer } from '../../../support/vici/fake-vici-server';

const EVENTS = ['ike-updown', 'ike-rekey', 'child-updown', 'child-rekey', 'list-sa'];
const NAT = '203.0.113.5';
const windows: IkeFixture = { ikeId: '1', remoteHost: NAT, children: [{ childId: '11', remoteTs: `${NAT}/32[udp/l2f]`, mark: '00000001' }] };
const mac: IkeFixture = { ikeId: '2', remoteHost: NAT, remotePort: '61001', children: [{ childId: '21', remoteTs: `${NAT}/32[udp/50123]`, mark: '00000002' }] };
const SETTINGS = { revision: 3, heartbeatIntervalSeconds: 30, ipsec: { psk: 'fleet-psk', allowLegacyProposals: true } };

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

interface Charon {
  server: FakeViciServer;
  /** SAs list-sas streams. */
  sas: ViciMessage[];
  plugins: string[];
  refuse?: string;
}

async function fakeCharon(init: { sas?: ViciMessage[]; plugins?: string[]; refuse?: string } = {}): Promise<Charon> {
  const state = { sas: init.sas ?? [], plugins: init.plugins ?? ['charon', 'vici', 'kernel-netlink', 'connmark'] } as Charon;
  if (init.refuse) state.refuse = init.refuse;
  const ok: FakeCommandHandler = () => ({ success: 'yes' });
  state.server = await startFakeViciServer({
    events: EVENTS,
    commands: {
      stats: () => ({ plugins: state.plugins }),
      'list-sas': (_m, ctx) => {
        for (const sa of state.sas) ctx.emit('list-sa', sa);
        return {};
      },
      'load-shared': ok,
      'load-conn': (): ViciMessage => (state.refuse ? { success: 'no', errmsg: state.refuse } : { success: 'yes' }),
      'unload-conn': (m) => ({ success: 'no', errmsg: `unload: connection '${String(m.name)}' not found` }),
      'unload-shared': ok,
      // Like charon's vici_control.c: without one of these keys it refuses.
      terminate: (m): ViciMessage =>
        ['ike', 'ike-id', 'child', 'child-id'].some((k) => m[k] !== undefined) ? { success: 'yes' } : { success: 'no', errmsg: 'missing terminate selector' },
    },
  });
  cleanup.push(() => state.server.close());
  return state;
}

function commands(server: FakeViciServer): [string, ViciMessage][] {
  return server.received.flatMap((p) => (p.type === 'cmd-request' ? [[p.command, p.message] as [string, ViciMessage]] : []));
}

function controller(options: Partial<IpsecControllerOptions> & { viciSocket: string }): IpsecController {
  const c = createIpsecController({ retry: { initialMs: 20, maxMs: 100 }, ...options });
  cleanup.push(() => c.close());
  return c;
}

async function until(cond: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('IpsecController: applying settings', () => {
  test('connect: stats, SA event registrations, list-sas; apply: load-shared then load-conn with %unique marks', async () => {
    const charon = await fakeCharon();
    const c = controller({ viciSocket: charon.server.path });
    await c.apply(SETTINGS);
    assert.deepEqual(
      charon.server.received.map((p) => (p.type === 'cmd-request' ? p.command : p.type === 'event-register' ? `+${p.event}` : p.type)),
      ['stats', '+ike-updown', '+ike-rekey', '+child-updown', '+child-rekey', '+list-sa', 'list-sas', 'event-unregister', 'load-shared', 'load-conn'],
    );
    const sent = commands(charon.server);
    assert.deepEqual(sent.find(([n]) => n === 'load-shared')?.[1], { id: PSK_SECRET_ID, type: 'IKE', data: 'fleet-psk', owners: [] });
    assert.deepEqual(sent.find(([n]) => n === 'load-conn')?.[1], l2tpConnMessage({ allowLegacyProposals: true, uniqueMarks: true }));
    assert.deepEqual(c.status(), { connected: true, synced: true, uniqueMarks: true, marks: 'connmark', appliedRevision: 3, childSas: 0 });
  });

  test('same settings again send nothing; a new revision with other values reloads; ipsec null unloads', async () => {
    const charon = await fakeCharon();
    const c = controller({ viciSocket: charon.server.path });
    await c.apply(SETTINGS);
    const before = commands(charon.server).length;
    await c.apply(SETTINGS);
    await c.apply({ ...SETTINGS, revision: 4 }); // revision bump with identical content: nothing to reload
    assert.equal(commands(charon.server).length, before);

    await c.apply({ revision: 5, ipsec: { psk: 'rotated', allowLegacyProposals: false } });
    const reload = commands(charon.server).slice(before);
    assert.deepEqual(reload.map(([n]) => n), ['load-shared', 'load-conn']);
    assert.deepEqual(reload[0]?.[1], l2tpPskMessage('rotated'));
    assert.deepEqual(reload[1]?.[1], l2tpConnMessage({ allowLegacyProposals: false, uniqueMarks: true }));
    assert.equal(c.status().appliedRevision, 5);

    await c.apply({ revision: 6, ipsec: null });
    const unload = commands(charon.server).slice(before + 2);
    // unload-conn answers "not found" in this fake: tolerated.
    assert.deepEqual(unload, [['unload-conn', { name: 'l2tp-psk' }], ['unload-shared', { id: PSK_SECRET_ID }]]);
  });

  test('without the connmark plugin the child gets no marks', async () => {
    const charon = await fakeCharon({ plugins: ['charon', 'vici'] });
    const c = controller({ viciSocket: charon.server.path });
    await c.apply(SETTINGS);
    const conn = commands(charon.server).find(([n]) => n === 'load-conn')?.[1];
    assert.deepEqual(conn, l2tpConnMessage({ allowLegacyProposals: true, uniqueMarks: false }));
    assert.equal(c.status().uniqueMarks, false);
  });

  test('localAddrs (cloud NAT mode) reaches load-conn as local_addrs', async () => {
    const charon = await fakeCharon({ plugins: ['charon', 'vici'] });
    const c = controller({ viciSocket: charon.server.path, localAddrs: ['203.0.113.7'] });
    await c.apply(SETTINGS);
    const conn = commands(charon.server).find(([n]) => n === 'load-conn')?.[1];
    assert.deepEqual(conn, l2tpConnMessage({ allowLegacyProposals: true, uniqueMarks: false, localAddrs: ['203.0.113.7'] }));
  });

  // Regression (found by the UML e2e suite, nat-two-clients): with forecast loaded, its OUTPUT MARK
  // rules pre-empted connmark's restore-mark and every reply to the NAT address left through the
  // newest client's SA; the second client never got an SCCRP.
  test('connmark together with the forecast plugin: no marks', async () => {
    const charon = await fakeCharon({ plugins: ['charon', 'vici', 'connmark', 'forecast'] });
    const c = controller({ viciSocket: charon.server.path });
    await c.apply(SETTINGS);
    const conn = commands(charon.server).find(([n]) => n === 'load-conn')?.[1];
    assert.deepEqual(conn, l2tpConnMessage({ allowLegacyProposals: true, uniqueMarks: false }));
    assert.equal(c.status().uniqueMarks, false);
  });

  test('a socket that reads marks: %unique marks and set_mark_in = %same, without needing the connmark plugin', async () => {
    const charon = await fakeCharon({ plugins: ['charon', 'vici'] });
    const c = controller({ viciSocket: charon.server.path, socketMarks: true });
    await c.apply(SETTINGS);
    const conn = commands(charon.server).find(([n]) => n === 'load-conn')?.[1];
    assert.deepEqual(conn, l2tpConnMessage({ allowLegacyProposals: true, uniqueMarks: true, setMarkIn: true }));
    const child = ((conn?.['l2tp-psk'] as ViciMessage).children as ViciMessage).l2tp as ViciMessage;
    assert.deepEqual([child.mark_in, child.mark_out, child.set_mark_in], ['%unique', '%unique', '%same']);
    assert.equal(c.status().marks, 'socket');
  });

  test('a socket that reads marks, but the forecast plugin is loaded (its MARK rules would override ours): no marks', async () => {
    const charon = await fakeCharon({ plugins: ['charon', 'vici', 'forecast'] });
    const c = controller({ viciSocket: charon.server.path, socketMarks: true });
    await c.apply(SETTINGS);
    assert.deepEqual(commands(charon.server).find(([n]) => n === 'load-conn')?.[1], l2tpConnMessage({ allowLegacyProposals: true, uniqueMarks: false }));
    assert.equal(c.status().marks, 'none');
  });

  test('charon refusing load-conn rejects apply with IpsecConfigError carrying errmsg', async () => {
    const charon = await fakeCharon({ refuse: 'invalid value for: proposals' });
    const c = controller({ viciSocket: charon.server.path });
    await assert.rejects(c.apply(SETTINGS), (err: unknown) => err instanceof IpsecConfigError && /load-conn.*invalid value for: proposals/.test(err.message));
  });

  test('a missing socket gives a clear error naming the path', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ipsec-')), 'charon.vici');
    const c = controller({ viciSocket: path });
    await assert.rejects(c.apply(SETTINGS), (err: unknown) => {
      assert.ok(err instanceof IpsecUnavailableError);
      assert.equal(err.code, 'ENOENT');
      assert.match(err.message, /is charon running\? socket path .*charon\.vici/);
      return true;
    });
    assert.equal(c.peerProtection(NAT, 1701), 'unknown');
  });
});

describe('IpsecController: SA tracking', () => {
  test('initial list-sas and events build the map that peerProtection answers from', async () => {
    const charon = await fakeCharon({ sas: [listSaMessage(windows)] });
    const c = controller({ viciSocket: charon.server.path });
    const events: string[] = [];
    c.onSaEvent((e: SaEvent) => events.push(`${e.type}:${e.sa.childId}`));
    assert.equal(c.peerProtection(NAT, 1701), 'unknown', 'not synced yet');
    await c.apply(SETTINGS);
    assert.equal(c.peerProtection(NAT, 1701), 'protected');
    assert.equal(c.peerProtection(NAT, 50123), 'unprotected');
    assert.deepEqual(events, ['up:11']);

    charon.server.emit('child-updown', childUpdownMessage(true, mac));
    await until(() => c.peerProtection(NAT, 50123) === 'protected', 'mac SA up');
    charon.server.emit('child-updown', childUpdownMessage(false, windows));
    await until(() => c.peerProtection(NAT, 1701) === 'unprotected', 'windows SA down');
    charon.server.emit('ike-updown', ikeUpdownMessage(false, mac));
    await until(() => c.peerProtection(NAT, 50123) === 'unprotected', 'mac IKE down');
    assert.deepEqual(events, ['up:11', 'up:21', 'down:11', 'down:21']);
  });

  test('waitForProtection resolves when the SA event trails the first L2TP packet', async () => {
    const charon = await fakeCharon();
    const c = controller({ viciSocket: charon.server.path });
    await c.apply(SETTINGS);
    const waiting = c.waitForProtection(`::ffff:${NAT}`, 1701, 2_000);
    setTimeout(() => charon.server.emit('child-updown', childUpdownMessage(true, windows)), 30);
    assert.equal(await waiting, 'protected');
    assert.equal(await c.waitForProtection(NAT, 40000, 30), 'unprotected');
  });

  test('terminateForPeer terminates the IKE_SA matched by address and selector port', async () => {
    const charon = await fakeCharon({ sas: [listSaMessage(windows), listSaMessage(mac)] });
    const c = controller({ viciSocket: charon.server.path });
    await c.apply(SETTINGS);
    assert.deepEqual(await c.terminateForPeer(NAT, 50123), { outcome: 'terminated', ikeIds: ['2'] });
    assert.deepEqual(commands(charon.server).filter(([n]) => n === 'terminate'), [['terminate', { 'ike-id': '2', timeout: '2000', force: 'yes' }]]);
    assert.equal(c.peerProtection(NAT, 50123), 'unprotected');
    assert.equal(c.peerProtection(NAT, 1701), 'protected', 'the other client behind the NAT keeps its SA');
    assert.deepEqual(await c.terminateForPeer('192.0.2.1', 1701), { outcome: 'no-sa' });
  });

  test('several IKE_SAs from one address without pinned ports: ambiguous, nothing terminated', async () => {
    const a: IkeFixture = { ikeId: '5', remoteHost: NAT, children: [{ childId: '51', remoteTs: `${NAT}/32[udp]` }] };
    const b: IkeFixture = { ikeId: '6', remoteHost: NAT, remotePort: '1024', children: [{ childId: '61', remoteTs: `${NAT}/32[udp]` }] };
    const charon = await fakeCharon({ sas: [listSaMessage(a), listSaMessage(b)] });
    const c = controller({ viciSocket: charon.server.path });
    await c.apply(SETTINGS);
    assert.deepEqual(await c.terminateForPeer(NAT, 1701), { outcome: 'ambiguous', ikeIds: ['5', '6'] });
    assert.equal(commands(charon.server).filter(([n]) => n === 'terminate').length, 0);
  });
});

describe('IpsecController: SAs told apart by their marks (clients behind one NAT, all on udp/1701)', () => {
  const pc1: IkeFixture = { ikeId: '7', remoteHost: NAT, remotePort: '4500', children: [{ childId: '71', remoteTs: `${NAT}/32[udp/l2f]`, mark: '00000007' }] };
  const pc2: IkeFixture = { ikeId: '8', remoteHost: NAT, remotePort: '1025', children: [{ childId: '81', remoteTs: `${NAT}/32[udp/l2f]`, mark: '00000008' }] };

  test('a datagram is protected by the SA its mark names; unmarked or unknown marks are not', async () => {
    const charon = await fakeCharon({ sas: [listSaMessage(pc1), listSaMessage(pc2)] });
    const c = controller({ viciSocket: charon.server.path, socketMarks: true });
    await c.apply(SETTINGS);
    assert.equal(c.peerProtection(NAT, 1701, 7), 'protected');
    assert.equal(c.peerProtection(NAT, 1701, 8), 'protected');
    assert.equal(c.peerProtection(NAT, 1701, 9), 'unprotected');
    assert.equal(c.peerProtection(NAT, 1701, 0), 'unprotected', 'plaintext from the NAT address (no SA marked it)');
    assert.equal(c.peerProtection('192.0.2.1', 1701, 7), 'unprotected', 'another address with that mark');
    assert.equal(c.saForPeer?.(NAT, 1701, 8)?.ikeId, '8');
  });

  test('waitForProtection waits for the SA with that mark', async () => {
    const charon = await fakeCharon({ sas: [listSaMessage(pc1)] });
    const c = controller({ viciSocket: charon.server.path, socketMarks: true });
    await c.apply(SETTINGS);
    const waiting = c.waitForProtection(NAT, 1701, 2_000, 8);
    setTimeout(() => charon.server.emit('child-updown', childUpdownMessage(true, pc2)), 30);
    assert.equal(await waiting, 'protected');
  });

  test('an operator disconnect terminates exactly the IKE_SA of that mark, not every SA on the port', async () => {
    const charon = await fakeCharon({ sas: [listSaMessage(pc1), listSaMessage(pc2)] });
    const c = controller({ viciSocket: charon.server.path, socketMarks: true });
    await c.apply(SETTINGS);
    assert.deepEqual(await c.terminateForPeer(NAT, 1701, 8), { outcome: 'terminated', ikeIds: ['8'] });
    assert.deepEqual(commands(charon.server).filter(([n]) => n === 'terminate'), [['terminate', { 'ike-id': '8', timeout: '2000', force: 'yes' }]]);
    assert.equal(c.peerProtection(NAT, 1701, 7), 'protected', 'the other PC keeps its SA');
    assert.equal(c.peerProtection(NAT, 1701, 8), 'unprotected');
    assert.deepEqual(await c.terminateForPeer(NAT, 1701, 8), { outcome: 'no-sa' });
  });

  test('negative control: without the mark, address and port match both PCs and both IKE_SAs would go', async () => {
    const charon = await fakeCharon({ sas: [listSaMessage(pc1), listSaMessage(pc2)] });
    const c = controller({ viciSocket: charon.server.path });
    await c.apply(SETTINGS);
    assert.deepEqual(await c.terminateForPeer(NAT, 1701), { outcome: 'terminated', ikeIds: ['7', '8'] });
  });
});

describe('IpsecController: reconnect', () => {
  test('after the socket drops it reconnects, re-lists SAs and re-pushes the settings', async () => {
    const first = await fakeCharon({ sas: [listSaMessage(windows)] });
    let path = first.server.path;
    const c = controller({ viciSocket: 'unused', connect: () => connectVici(path) });
    const events: string[] = [];
    c.onSaEvent((e) => events.push(`${e.type}:${e.sa.childId}`));
    await c.apply(SETTINGS);
    assert.equal(c.peerProtection(NAT, 1701), 'protected');

    await first.server.close(); // charon restarted: its SAs are gone
    await until(() => !c.status().connected, 'disconnect noticed');
    assert.equal(c.peerProtection(NAT, 1701), 'unknown');

    const second = await fakeCharon({ sas: [listSaMessage(mac)] });
    path = second.server.path;
    await until(() => c.status().synced && commands(second.server).some(([n]) => n === 'load-conn'), 'resync on the new charon');
    assert.deepEqual(
      commands(second.server).map(([n]) => n),
      ['stats', 'list-sas', 'load-shared', 'load-conn'],
    );
    assert.equal(c.peerProtection(NAT, 1701), 'unprotected');
    assert.equal(c.peerProtection(NAT, 50123), 'protected');
    assert.deepEqual(events, ['up:11', 'down:11', 'up:21']);
  });

  test('background connection comes up once charon appears, without an apply', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ipsec-'));
    let path = join(dir, 'missing.vici');
    const c = controller({ viciSocket: 'unused', connect: () => connectVici(path) });
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(c.status().connected, false);
    const charon = await fakeCharon({ sas: [listSaMessage(windows)] });
    path = charon.server.path;
    await until(() => c.status().synced, 'background connect', 3_000);
    assert.equal(c.peerProtection(NAT, 1701), 'protected');
    assert.equal(commands(charon.server).some(([n]) => n === 'load-conn'), false, 'nothing to push before apply');
  });
});
