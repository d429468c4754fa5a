/** The jobs createAgent hands out (issue 17): admission, pending calls, the session table, reports, claims, TUN routes. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { FakeTimers } from '../../../../edge-agent/src/clock';
import { parseIpv4 } from '../../../../edge-agent/src/datapath';
import type { Broker } from '../../../../edge-agent/src/broker/broker-client';
import type { LinkSettings } from '../../../../edge-agent/src/io/link-config';
import { cidrOf, isCidrError, type Cidr } from '../../../../contract/src/ipv4';
import { AddressClaims } from '../../../../edge-agent/src/runtime/address-claims';
import { admitCall, type AdmissionState } from '../../../../edge-agent/src/runtime/admission';
import { PendingCalls } from '../../../../edge-agent/src/runtime/pending-calls';
import type { PoolRoute } from '../../../../edge-agent/src/runtime/pool-route';
import { SessionReports, ZERO_COUNTERS } from '../../../../edge-agent/src/runtime/session-reports';
import { SessionTable } from '../../../../edge-agent/src/runtime/session-table';
import { TunRoutes } from '../../../../edge-agent/src/runtime/tun-routes';

const log = pino({ level: 'silent' });
const ip = (text: string) => parseIpv4(text) as number;
const block = (text: string): Cidr => {
  const [network, prefix] = text.split('/');
  const c = cidrOf(ip(network!), Number(prefix));
  assert.ok(!isCidrError(c));
  return c;
};
const pool = (cidr: string, gateway: string): PoolRoute => ({ block: block(cidr), gateway, gatewayAddress: ip(gateway) });

describe('admitCall', () => {
  const open: AdmissionState = { stopping: false, revoked: false, draining: false, active: 3, capacity: 10, pendingOnTunnel: 1, maxPendingPerTunnel: 4 };
  test('admits below capacity and the per-tunnel pending limit', () => assert.deepEqual(admitCall(open), { admit: true }));
  test('refuses with the first reason that applies', () => {
    assert.deepEqual(admitCall({ ...open, stopping: true, draining: true }), { admit: false, why: 'shutting down', reason: 'shutting-down' });
    assert.deepEqual(admitCall({ ...open, revoked: true, draining: true }), { admit: false, why: 'revoked', reason: 'revoked' });
    assert.deepEqual(admitCall({ ...open, draining: true }), { admit: false, why: 'draining', reason: 'draining' });
    assert.deepEqual(admitCall({ ...open, pendingOnTunnel: 4, active: 10 }), { admit: false, why: 'busy: too many calls pending on this tunnel', reason: 'too-many-pending' });
    assert.deepEqual(admitCall({ ...open, active: 10 }), { admit: false, why: 'at capacity', reason: 'at-capacity' });
  });
});

describe('PendingCalls', () => {
  test('counts per tunnel, ends without firing, and expires the rest once', () => {
    const timers = new FakeTimers();
    const expired: string[] = [];
    const calls = new PendingCalls(timers, 10_000, (t, s) => expired.push(`${t}/${s}`));
    calls.add(1, 5);
    calls.add(1, 6);
    calls.add(1, 6); // a repeated ICRQ does not count twice
    calls.add(2, 5);
    assert.equal(calls.size, 3);
    assert.equal(calls.onTunnel(1), 2);
    calls.end(1, 5);
    calls.end(9, 9); // unknown: ignored
    assert.equal(calls.onTunnel(1), 1);
    timers.advance(10_000);
    assert.deepEqual(expired.sort(), ['1/6', '2/5']);
    assert.equal(calls.size, 0);
    assert.equal(timers.size, 0, 'no timer left armed');
  });
});

describe('SessionTable', () => {
  const s = (localTunnelId: number, localSessionId: number, brokerSessionId?: string) => ({ localTunnelId, localSessionId, brokerSessionId });
  test('finds by call and by broker id; removing an older session keeps a newer one on the same call', () => {
    const table = new SessionTable<ReturnType<typeof s>>();
    const old = s(1, 2, 'a');
    const newer = s(1, 2, 'b');
    table.add(old);
    table.add(s(1, 3));
    table.add(newer);
    assert.equal(table.get(1, 2), newer);
    table.remove(old);
    assert.equal(table.get(1, 2), newer);
    assert.equal(table.byBrokerId('b'), newer);
    assert.equal(table.byBrokerId('a'), undefined);
    assert.deepEqual(table.brokerIds(), ['b']);
    assert.equal(table.anyOnTunnel(1), true);
    table.remove(newer);
    table.remove(table.get(1, 3)!);
    assert.equal(table.anyOnTunnel(1), false);
    // Tunnel 2, session 0 and tunnel 1, session 65536 would collide if ids were not 16 bits; they are.
    table.add(s(0xffff, 0xffff, 'max'));
    assert.equal(table.get(0xffff, 0xffff)?.brokerSessionId, 'max');
  });
});

describe('SessionReports', () => {
  const calls: string[] = [];
  let resolveStop: () => void = () => {};
  const broker = {
    reportInterim: async (id: string) => void calls.push(`interim ${id}`),
    reportStop: (id: string, reason: string) => {
      calls.push(`stop ${id} ${reason}`);
      return new Promise<void>((resolve) => (resolveStop = resolve));
    },
  } as unknown as Broker;

  test('an interim report only when the packet total moved; stops add to the totals', () => {
    calls.length = 0;
    const reports = new SessionReports(broker, new FakeTimers(), log);
    const session = { brokerSessionId: 's1', tenantId: 't', username: 'u', endReason: undefined, reportedPackets: 0 };
    const c = { bytesIn: 100, bytesOut: 50, packetsIn: 2, packetsOut: 1 };
    reports.interim(session, c);
    reports.interim(session, c);
    reports.interim({ ...session, brokerSessionId: undefined }, c);
    assert.deepEqual(calls, ['interim s1']);
    reports.stopped(session, 'user-request', c);
    assert.deepEqual(calls, ['interim s1', 'stop s1 user-request']);
    assert.deepEqual(reports.totals([c]), { bytesIn: 200, bytesOut: 100, packetsIn: 4, packetsOut: 2 });
    assert.deepEqual(new SessionReports(broker, new FakeTimers(), log).totals([]), ZERO_COUNTERS);
  });

  test('settle waits for reports in flight, at most the deadline, and leaves no timer armed', async () => {
    const timers = new FakeTimers();
    const reports = new SessionReports(broker, timers, log);
    reports.stopped({ brokerSessionId: 's2', tenantId: 't', username: 'u', endReason: undefined, reportedPackets: 0 }, 'admin-disconnect', ZERO_COUNTERS);
    let settled = false;
    const done = reports.settle(5000).then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, false, 'the stop report is still in flight');
    timers.advance(5000);
    await done;
    assert.equal(settled, true);

    const quick = reports.settle(5000);
    resolveStop();
    await quick;
    assert.equal(timers.size, 0, 'the deadline of a settle that ended early is cleared');
  });
});

describe('AddressClaims', () => {
  const live = () => ({ ended: false });
  test('one live holder per address; never the host networks, a gateway, or a live session\'s address as gateway', () => {
    const gateways = new Set([ip('10.8.0.1')]);
    const claims = new AddressClaims<{ ended: boolean }>(['172.31.0.0/16'], (a) => gateways.has(a));
    const a = live();
    const b = live();
    const p = pool('10.8.0.0/24', '10.8.0.1');
    assert.equal(claims.claim(a, ip('10.8.0.10'), p), undefined);
    assert.equal(claims.claim(a, ip('10.8.0.10'), p), undefined, 'the holder may claim again');
    assert.match(claims.claim(b, ip('10.8.0.10'), p) ?? '', /already the address of a live session/);
    assert.match(claims.claim(b, ip('10.8.0.1'), p) ?? '', /pool gateway/);
    assert.ok(claims.claim(b, ip('172.31.0.9'), pool('172.31.0.0/24', '172.31.0.1')) !== undefined, 'host network refused');
    assert.match(claims.claim(b, ip('10.9.0.5'), pool('10.9.0.0/24', '10.8.0.10')) ?? '', /gateway 10.8.0.10 is the address of a live session/);
    claims.release(b, ip('10.8.0.10')); // not the holder: nothing changes
    assert.match(claims.claim(b, ip('10.8.0.10'), p) ?? '', /already/);
    claims.release(a, ip('10.8.0.10'));
    assert.equal(claims.claim(b, ip('10.8.0.10'), p), undefined);
  });
});

describe('TunRoutes', () => {
  test('installs each pool once, retries a pool whose configuration failed, and removes what it installed', async () => {
    const configured: LinkSettings[] = [];
    const removed: LinkSettings[] = [];
    let fail = true;
    const routes = new TunRoutes(
      {
        configure: async (s) => {
          if (fail) {
            fail = false;
            throw new Error('RTNETLINK answers: Operation not permitted');
          }
          configured.push(s);
        },
        teardown: async (s) => void removed.push(s),
      },
      { name: 'tbr0', mtu: 1400 },
      log,
    );
    const p = pool('10.8.0.0/24', '10.8.0.1');
    assert.equal(await routes.poolReady(p), false);
    assert.equal(await routes.poolReady(p), true, 'the next session retries');
    assert.equal(await routes.poolReady(p), true);
    assert.equal(configured.length, 1, 'installed once');
    assert.equal(routes.isGateway(ip('10.8.0.1')), true);
    assert.equal(await routes.poolReady(pool('10.9.0.0/24', '10.9.0.1')), true);
    assert.deepEqual(configured.at(-1)?.routes, ['10.8.0.0/24', '10.9.0.0/24']);
    await routes.removeAll();
    assert.deepEqual(removed[0]?.addresses, ['10.8.0.1/32', '10.9.0.1/32']);
  });
});
