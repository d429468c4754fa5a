import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeDataHeader,
  decodeHeader,
  decodePacket,
  encodeDataHeaderInto,
  encodePacket,
  isL2tpDecodeError,
  newDataHeaderView,
  dataHeaderLength,
  L2tpError,
} from '../../../../edge-agent/src/l2tp/index';
import { hex, toHex } from '../../../support/l2tp/bytes';

describe('header codec (RFC 2661 §3.1)', () => {
  const good: Array<{ name: string; bytes: string; expect: Record<string, unknown> }> = [
    {
      name: 'control ZLB: T L S, length 12',
      bytes: 'c802 000c 1234 0000 0005 0007',
      expect: { isControl: true, length: 12, tunnelId: 0x1234, sessionId: 0, ns: 5, nr: 7, headerLength: 12 },
    },
    {
      name: 'minimal data header',
      bytes: '0002 abcd 0102 ff03',
      expect: { isControl: false, tunnelId: 0xabcd, sessionId: 0x0102, headerLength: 6, priority: false },
    },
    {
      name: 'data with L, S, O and P',
      bytes: '4b02 0012 0001 0002 0003 0004 0002 0000 ff03 c021',
      expect: { isControl: false, length: 18, ns: 3, nr: 4, offsetSize: 2, headerLength: 16, priority: true },
    },
    {
      name: 'reserved bits are ignored',
      bytes: 'c832 000c 0001 0000 0000 0000',
      expect: { isControl: true, tunnelId: 1 },
    },
  ];
  for (const c of good) {
    test(`decodes ${c.name}`, () => {
      const h = decodeHeader(hex(c.bytes));
      assert.ok(!isL2tpDecodeError(h), String(h));
      for (const [k, v] of Object.entries(c.expect)) assert.equal((h as unknown as Record<string, unknown>)[k], v, k);
    });
  }

  const bad: Array<{ name: string; bytes: string; code: string }> = [
    { name: 'empty', bytes: '', code: 'truncated' },
    { name: '5 bytes', bytes: 'c802 000c 00', code: 'truncated' },
    { name: 'version 3', bytes: 'c803 000c 0001 0000 0000 0000', code: 'bad-version' },
    { name: 'version 1 (L2F)', bytes: 'c801 000c 0001 0000 0000 0000', code: 'bad-version' },
    { name: 'control without S', bytes: 'c002 0008 0001 0000', code: 'bad-control-flags' },
    { name: 'control without L', bytes: '8802 0001 0000 0000 0000', code: 'bad-control-flags' },
    { name: 'control with O', bytes: 'ca02 000e 0001 0000 0000 0000 0000', code: 'bad-control-flags' },
    { name: 'length beyond datagram', bytes: 'c802 0020 0001 0000 0000 0000', code: 'bad-length' },
    { name: 'length below header', bytes: 'c802 0008 0001 0000 0000 0000', code: 'bad-length' },
    { name: 'S set but no room for Ns/Nr', bytes: 'c802 000c 0001 0000 00', code: 'truncated' },
    { name: 'offset pad overruns', bytes: '0202 0001 0001 00ff 0000', code: 'bad-length' },
  ];
  for (const c of bad) {
    test(`rejects ${c.name}`, () => {
      const h = decodeHeader(hex(c.bytes));
      assert.ok(isL2tpDecodeError(h));
      assert.equal(h.code, c.code);
    });
  }

  test('decodePacket bounds the payload by Length and does not copy', () => {
    const buf = hex('c802 000e 0001 0000 0000 0000 aabb ccdd');
    const p = decodePacket(buf);
    assert.ok(!isL2tpDecodeError(p));
    assert.equal(toHex(p.payload), 'aabb');
    assert.equal(p.payload.buffer, buf.buffer);
  });

  test('encode -> decode round trips for control and data headers', () => {
    const control = encodePacket({ isControl: true, tunnelId: 9, sessionId: 3, ns: 0xffff, nr: 1 }, hex('0102'));
    assert.equal(toHex(control), 'c802000e00090003ffff00010102');
    const data = encodePacket({ isControl: false, tunnelId: 9, sessionId: 3, withLength: true, offsetSize: 1, priority: true }, hex('ff03'));
    assert.equal(toHex(data), '4302000d0009000300010' + '0ff03');
    const p = decodePacket(data);
    assert.ok(!isL2tpDecodeError(p));
    assert.equal(toHex(p.payload), 'ff03');
    assert.equal(p.header.priority, true);
  });

  test('encoder refuses impossible headers', () => {
    assert.throws(() => encodePacket({ isControl: true, tunnelId: 1, sessionId: 0 }), L2tpError);
    assert.throws(() => encodePacket({ isControl: false, tunnelId: 70000, sessionId: 0 }), L2tpError);
    assert.throws(() => encodePacket({ isControl: false, tunnelId: 1, sessionId: 0, ns: 1 }), L2tpError);
  });
});

describe('data fast path', () => {
  const cases = [
    { name: 'plain', bytes: '0002 0010 0020 ff03 c021', tunnel: 0x10, session: 0x20, off: 6, len: 4, ns: -1 },
    { name: 'length bounds payload', bytes: '4002 000a 0001 0002 ff03 eeee', tunnel: 1, session: 2, off: 8, len: 2, ns: -1 },
    { name: 'sequenced', bytes: '0802 0001 0002 0007 0000 ff03', tunnel: 1, session: 2, off: 10, len: 2, ns: 7 },
    { name: 'offset', bytes: '0202 0001 0002 0001 00 ff03', tunnel: 1, session: 2, off: 9, len: 2, ns: -1 },
  ];
  for (const c of cases) {
    test(`decodeDataHeader ${c.name}`, () => {
      const out = newDataHeaderView();
      const v = decodeDataHeader(hex(c.bytes), out);
      assert.equal(v, out, 'fills the reusable view');
      assert.ok(!isL2tpDecodeError(v));
      assert.deepEqual([v.tunnelId, v.sessionId, v.payloadOffset, v.payloadLength, v.ns], [c.tunnel, c.session, c.off, c.len, c.ns]);
    });
  }
  for (const [name, bytes, code] of [
    ['control packet', 'c802 000c 0001 0000 0000 0000', 'bad-control-flags'],
    ['short', '0002 0001 00', 'truncated'],
    ['lying length', '4002 0040 0001 0002', 'bad-length'],
    ['sequenced but truncated', '0802 0001 0002 00', 'truncated'],
    ['version 3', '0003 0001 0002', 'bad-version'],
  ] as const) {
    test(`decodeDataHeader rejects ${name}`, () => {
      const v = decodeDataHeader(hex(bytes));
      assert.ok(isL2tpDecodeError(v));
      assert.equal(v.code, code);
    });
  }
  test('encodeDataHeaderInto writes in place and decodes back', () => {
    const buf = new Uint8Array(32).fill(0xee);
    const ppp = hex('ff03 0021 4500');
    const hl = dataHeaderLength(true, true);
    buf.set(ppp, 4 + hl);
    const n = encodeDataHeaderInto(buf, 4, 0x1234, 0x5678, ppp.length, true, 9, 0);
    assert.equal(n, hl);
    assert.equal(toHex(buf.subarray(4, 4 + n)), '4802' + '0012' + '1234' + '5678' + '0009' + '0000');
    const v = decodeDataHeader(buf, newDataHeaderView(), 4, 4 + n + ppp.length);
    assert.ok(!isL2tpDecodeError(v));
    assert.equal(toHex(buf.subarray(v.payloadOffset, v.payloadOffset + v.payloadLength)), toHex(ppp));
    assert.equal(v.ns, 9);
    const plain = new Uint8Array(6);
    assert.equal(encodeDataHeaderInto(plain, 0, 1, 2, 0), 6);
    assert.equal(toHex(plain), '000200010002');
  });
});
