import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseIpv4 } from '../../../../edge-agent/src/datapath/address';
import { SessionCounters } from '../../../../edge-agent/src/datapath/counters';
import { encodeIpv4Packet } from '../../../../edge-agent/src/datapath/ipv4';
import { RouteTable, type SessionRoute } from '../../../../edge-agent/src/datapath/route-table';

describe('RouteTable', () => {
  const a = parseIpv4('10.8.0.2')!;
  const b = parseIpv4('10.8.0.3')!;

  test('add, lookup by address and by packet destination, remove', () => {
    const table = new RouteTable();
    const ra: SessionRoute = { address: a, counterSlot: 0 };
    assert.equal(table.add(ra), undefined);
    table.add({ address: b, counterSlot: 1 });
    assert.equal(table.size, 2);
    assert.equal(table.lookup(a), ra);
    const toA = encodeIpv4Packet({ source: parseIpv4('1.1.1.1')!, destination: a, protocol: 17, payload: Buffer.alloc(4) });
    assert.equal(table.lookupPacket(toA), ra);
    assert.equal(table.remove(a), true);
    assert.equal(table.lookup(a), undefined);
    assert.equal(table.lookupPacket(toA), undefined);
    assert.equal(table.remove(a), false);
  });

  test('issue 14 finding 1: a second route for a live address is refused (the holder is returned and keeps the traffic)', () => {
    const table = new RouteTable<SessionRoute & { id: string }>();
    const victim = { address: a, counterSlot: 0, id: 'victim' };
    const attacker = { address: a, counterSlot: 1, id: 'attacker' };
    assert.equal(table.add(victim), undefined);
    assert.equal(table.add(attacker), victim);
    const toA = encodeIpv4Packet({ source: parseIpv4('1.1.1.1')!, destination: a, protocol: 17, payload: Buffer.alloc(4) });
    assert.equal(table.lookupPacket(toA)?.id, 'victim');
    assert.equal(table.remove(a, attacker), false, 'the refused route cannot remove the holder');
    assert.equal(table.add(victim), undefined, 're-adding the holder is a no-op');
    assert.equal(table.remove(a, victim), true);
    assert.equal(table.add(attacker), undefined, 'free again once the holder ended');
  });
});

describe('SessionCounters', () => {
  test('counts bytes and packets per direction per slot', () => {
    const c = new SessionCounters(2);
    const s1 = c.allocate();
    const s2 = c.allocate();
    c.addIn(s1, 100);
    c.addIn(s1, 50);
    c.addOut(s1, 1500);
    c.addOut(s2, 7);
    assert.deepEqual(c.read(s1), { bytesIn: 150, bytesOut: 1500, packetsIn: 2, packetsOut: 1 });
    assert.deepEqual(c.read(s2), { bytesIn: 0, bytesOut: 7, packetsIn: 0, packetsOut: 1 });
  });

  test('grows past its initial capacity keeping values, reuses released slots zeroed', () => {
    const c = new SessionCounters(1);
    const slots = Array.from({ length: 10_000 }, () => c.allocate());
    assert.equal(new Set(slots).size, 10_000);
    c.addIn(slots[0]!, 9);
    c.addOut(slots[9_999]!, 3);
    c.allocate();
    assert.equal(c.read(slots[0]!).bytesIn, 9);
    assert.equal(c.read(slots[9_999]!).bytesOut, 3);
    c.release(slots[0]!);
    assert.equal(c.inUse, 10_000);
    const again = c.allocate();
    assert.equal(again, slots[0]);
    assert.deepEqual(c.read(again), { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 });
  });

  test('exact beyond 2^32 bytes', () => {
    const c = new SessionCounters();
    const s = c.allocate();
    for (let i = 0; i < 3; i++) c.addIn(s, 2 ** 31 + 1);
    assert.equal(c.read(s).bytesIn, 3 * (2 ** 31 + 1));
  });
});
