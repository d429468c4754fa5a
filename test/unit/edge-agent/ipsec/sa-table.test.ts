import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_SA_TABLE, matchMark, matchPeer, stepSaTable, type SaFilter, type SaTable, type SaTableEvent } from '../../../../edge-agent/src/ipsec';
import {
  childRekeyMessage,
  childUpdownMessage,
  ikeSection,
  ikeUpdownMessage,
  listSaMessage,
  type IkeFixture,
} from '../../../support/ipsec/sa-fixtures';

const filter: SaFilter = { connections: new Set(['l2tp-psk']) };
const NAT = '203.0.113.5';
// Two clients behind one NAT: a Windows client pinning udp/1701, a macOS client on an ephemeral port.
const windows: IkeFixture = { ikeId: '1', remoteHost: NAT, remotePort: '4500', children: [{ childId: '11', remoteTs: `${NAT}/32[udp/l2f]`, mark: '00000001' }] };
const mac: IkeFixture = { ikeId: '2', remoteHost: NAT, remotePort: '61001', children: [{ childId: '21', remoteTs: `${NAT}/32[udp/50123]`, mark: '00000002' }] };
const anyPort: IkeFixture = { ikeId: '3', remoteHost: '192.0.2.7', remotePort: '500', children: [{ childId: '31', remoteTs: '192.0.2.7/32[udp]' }] };

function run(events: SaTableEvent[], start: SaTable = EMPTY_SA_TABLE) {
  let table = start;
  const changes: string[] = [];
  for (const e of events) {
    const r = stepSaTable(table, e, filter);
    table = r.table;
    for (const c of r.changes) changes.push(`${c.type}:${c.sa.childId}`);
  }
  return { table, changes };
}

describe('stepSaTable', () => {
  test('snapshot builds records from list-sa sections', () => {
    const { table, changes } = run([{ kind: 'snapshot', sas: [{ name: 'l2tp-psk', sa: ikeSection(windows) }, { name: 'l2tp-psk', sa: ikeSection(anyPort) }] }]);
    assert.deepEqual(changes, ['up:11', 'up:31']);
    assert.deepEqual(table.get('11'), {
      ikeName: 'l2tp-psk',
      ikeId: '1',
      childId: '11',
      childName: 'l2tp',
      remoteHost: NAT,
      remoteIkePort: 4500,
      remoteId: '192.168.1.10',
      l2tpPort: 1701,
      encap: true,
      markIn: 1,
      markOut: 1,
      remoteTs: [`${NAT}/32[udp/l2f]`],
    });
    assert.equal(table.get('31')?.l2tpPort, undefined);
    assert.equal(table.get('31')?.encap, false);
  });

  test('other connections, tunnel mode and not-installed children are ignored', () => {
    const tunnel: IkeFixture = { ikeId: '4', remoteHost: '192.0.2.9', children: [{ childId: '41', mode: 'TUNNEL' }] };
    const rekeying: IkeFixture = { ikeId: '5', remoteHost: '192.0.2.10', children: [{ childId: '51', state: 'REKEYING' }] };
    const { table } = run([
      { kind: 'snapshot', sas: [{ name: 'site-to-site', sa: ikeSection(windows) }, { name: 'l2tp-psk', sa: ikeSection(tunnel) }, { name: 'l2tp-psk', sa: ikeSection(rekeying) }] },
      { kind: 'child-updown', message: childUpdownMessage(true, mac, 'other-conn') },
    ]);
    assert.equal(table.size, 0);
  });

  test('child-updown adds and removes; ike-updown down removes all children of that IKE_SA', () => {
    const { table, changes } = run([
      { kind: 'ike-updown', message: ikeUpdownMessage(true, windows) },
      { kind: 'child-updown', message: childUpdownMessage(true, windows) },
      { kind: 'child-updown', message: childUpdownMessage(true, mac) },
      { kind: 'child-updown', message: childUpdownMessage(false, mac) },
      { kind: 'child-updown', message: childUpdownMessage(true, mac) },
      { kind: 'ike-updown', message: ikeUpdownMessage(false, windows) },
    ]);
    assert.deepEqual(changes, ['up:11', 'up:21', 'down:21', 'up:21', 'down:11']);
    assert.deepEqual([...table.keys()], ['21']);
  });

  test('child-rekey swaps the old CHILD_SA for the new one', () => {
    const { table, changes } = run([
      { kind: 'child-updown', message: childUpdownMessage(true, windows) },
      { kind: 'child-rekey', message: childRekeyMessage(windows, { childId: '11' }, { childId: '12', remoteTs: `${NAT}/32[udp/l2f]` }) },
    ]);
    assert.deepEqual(changes, ['up:11', 'down:11', 'up:12']);
    assert.deepEqual([...table.keys()], ['12']);
    assert.equal(table.get('12')?.ikeId, '1');
  });

  test('ike-rekey re-points children to the new IKE_SA id', () => {
    const { table, changes } = run([
      { kind: 'child-updown', message: childUpdownMessage(true, windows) },
      { kind: 'ike-rekey', message: { 'l2tp-psk': { old: ikeSection(windows, false), new: ikeSection({ ...windows, ikeId: '9' }, false) } } },
    ]);
    assert.deepEqual(changes, ['up:11']);
    assert.equal(table.get('11')?.ikeId, '9');
  });

  test('a snapshot replaces the table and reports the difference', () => {
    const first = run([{ kind: 'snapshot', sas: [{ name: 'l2tp-psk', sa: ikeSection(windows) }] }]);
    const second = run([{ kind: 'snapshot', sas: [{ name: 'l2tp-psk', sa: ikeSection(mac) }] }], first.table);
    assert.deepEqual(second.changes, ['down:11', 'up:21']);
  });
});

describe('matchPeer: linking an L2TP peer (address, port as the socket saw it) to SAs', () => {
  const { table } = run([
    { kind: 'child-updown', message: childUpdownMessage(true, windows) },
    { kind: 'child-updown', message: childUpdownMessage(true, mac) },
    { kind: 'child-updown', message: childUpdownMessage(true, anyPort) },
  ]);

  test('two clients behind one NAT are told apart by the selector port', () => {
    assert.deepEqual(matchPeer(table, NAT, 1701)?.sas.map((s) => s.ikeId), ['1']);
    assert.equal(matchPeer(table, NAT, 1701)?.by, 'port');
    assert.deepEqual(matchPeer(table, NAT, 50123)?.sas.map((s) => s.ikeId), ['2']);
  });

  test('an address whose SAs pin other ports does not match (that datagram bypassed IPsec)', () => {
    assert.equal(matchPeer(table, NAT, 40000), undefined);
  });

  test('an SA without a pinned port covers every port of its address', () => {
    assert.equal(matchPeer(table, '192.0.2.7', 1701)?.by, 'address');
    assert.equal(matchPeer(table, '::ffff:192.0.2.7', 5555)?.sas[0]?.ikeId, '3');
  });

  test('unknown address does not match', () => {
    assert.equal(matchPeer(table, '192.0.2.99', 1701), undefined);
  });
});

describe('matchMark: clients behind one NAT on the same L2TP port, told apart by their SA mark', () => {
  // Two Windows PCs behind one NAT: same public address, both pin udp/1701; charon gave each
  // CHILD_SA its own %unique mark, which the kernel puts on what that SA decrypts.
  const pc1: IkeFixture = { ikeId: '7', remoteHost: NAT, remotePort: '4500', children: [{ childId: '71', remoteTs: `${NAT}/32[udp/l2f]`, mark: '00000007' }] };
  const pc2: IkeFixture = { ikeId: '8', remoteHost: NAT, remotePort: '1025', children: [{ childId: '81', remoteTs: `${NAT}/32[udp/l2f]`, mark: '00000008' }] };
  const { table } = run([
    { kind: 'child-updown', message: childUpdownMessage(true, pc1) },
    { kind: 'child-updown', message: childUpdownMessage(true, pc2) },
    { kind: 'child-updown', message: childUpdownMessage(true, anyPort) },
  ]);

  test('address and port cannot tell them apart; the mark can', () => {
    assert.deepEqual(matchPeer(table, NAT, 1701)?.sas.map((s) => s.ikeId), ['7', '8']);
    assert.equal(matchMark(table, NAT, 7)?.ikeId, '7');
    assert.equal(matchMark(table, `::ffff:${NAT}`, 8)?.childId, '81');
  });

  test('no mark, an unknown mark, or a mark of another address matches nothing', () => {
    assert.equal(matchMark(table, NAT, 0), undefined);
    assert.equal(matchMark(table, NAT, 9), undefined);
    assert.equal(matchMark(table, '192.0.2.7', 7), undefined);
  });

  test('an unmarked datagram on a socket that reads marks matches only unmarked SAs', () => {
    assert.equal(matchPeer(table, NAT, 1701, { unmarkedOnly: true }), undefined);
    assert.equal(matchPeer(table, '192.0.2.7', 1701, { unmarkedOnly: true })?.sas[0]?.ikeId, '3');
  });

  test('a CHILD_SA rekey within the IKE_SA keeps the mark: the new child matches it', () => {
    const rekeyed = run([{ kind: 'child-rekey', message: childRekeyMessage(pc1, { childId: '71' }, { childId: '72', remoteTs: `${NAT}/32[udp/l2f]`, mark: '00000007' }) }], table).table;
    assert.equal(matchMark(rekeyed, NAT, 7)?.childId, '72');
    assert.equal(matchMark(rekeyed, NAT, 8)?.childId, '81');
  });

  test('a mark VICI reports as 0 or not as hex is no mark', () => {
    const odd: IkeFixture = { ikeId: '9', remoteHost: '192.0.2.20', children: [{ childId: '91', mark: '00000000' }, { childId: '92', mark: 'zz' }] };
    const t = run([{ kind: 'child-updown', message: childUpdownMessage(true, odd) }]).table;
    assert.equal(t.get('91')?.markIn, undefined);
    assert.equal(t.get('92')?.markIn, undefined);
  });
});
