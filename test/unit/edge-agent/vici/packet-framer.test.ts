import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodePacket,
  encodePacket,
  isViciDecodeError,
  MAX_SEGMENT_LENGTH,
  ViciEncodeError,
  ViciFramer,
  type ViciPacket,
} from '../../../../edge-agent/src/vici';

const ascii = (s: string) => [...Buffer.from(s, 'ascii')];

describe('VICI packets', () => {
  const vectors: Array<[string, ViciPacket, number[]]> = [
    ['CMD_REQUEST', { type: 'cmd-request', command: 'version', message: {} }, [0, 7, ...ascii('version')]],
    [
      'CMD_REQUEST with message',
      { type: 'cmd-request', command: 'terminate', message: { ike_id: '5' } },
      [0, 9, ...ascii('terminate'), 3, 6, ...ascii('ike_id'), 0, 1, ...ascii('5')],
    ],
    ['CMD_RESPONSE', { type: 'cmd-response', message: { success: 'yes' } }, [1, 3, 7, ...ascii('success'), 0, 3, ...ascii('yes')]],
    ['CMD_UNKNOWN', { type: 'cmd-unknown' }, [2]],
    ['EVENT_REGISTER', { type: 'event-register', event: 'list-sa' }, [3, 7, ...ascii('list-sa')]],
    ['EVENT_UNREGISTER', { type: 'event-unregister', event: 'log' }, [4, 3, ...ascii('log')]],
    ['EVENT_CONFIRM', { type: 'event-confirm' }, [5]],
    ['EVENT_UNKNOWN', { type: 'event-unknown' }, [6]],
    ['EVENT', { type: 'event', event: 'ike-updown', message: { up: 'yes' } }, [7, 10, ...ascii('ike-updown'), 3, 2, ...ascii('up'), 0, 3, ...ascii('yes')]],
  ];
  for (const [name, packet, payload] of vectors) {
    test(`${name}: bytes and round trip`, () => {
      const wire = encodePacket(packet);
      assert.equal(wire.readUInt32BE(0), payload.length);
      assert.deepEqual([...wire.subarray(4)], payload);
      assert.deepEqual(decodePacket(wire.subarray(4)), packet);
    });
  }

  const bad: Array<[string, number[], string]> = [
    ['empty', [], 'truncated'],
    ['unknown type', [8], 'unknown-packet-type'],
    ['named type without name', [0], 'truncated'],
    ['confirm with trailing data', [5, 0], 'trailing-data'],
    ['register with a message', [3, 1, ...ascii('x'), 2], 'trailing-data'],
    ['response with a broken message', [1, 2], 'bad-nesting'],
    ['event name overruns', [7, 9, ...ascii('x')], 'truncated'],
  ];
  for (const [name, bytes, code] of bad) {
    test(`rejects ${name}`, () => {
      const result = decodePacket(Buffer.from(bytes));
      assert.ok(isViciDecodeError(result), JSON.stringify(result));
      assert.equal(result.code, code);
    });
  }
  test('error offsets are relative to the packet', () => {
    const result = decodePacket(Buffer.from([1, 3, 1, ...ascii('k'), 0, 9]));
    assert.ok(isViciDecodeError(result));
    assert.equal(result.offset, 4);
  });
  test('refuses to encode a packet above the 512KB segment limit', () => {
    const big: Record<string, string> = {};
    for (let i = 0; i < 9; i++) big[`k${i}`] = 'x'.repeat(0xffff);
    assert.throws(() => encodePacket({ type: 'cmd-response', message: big }), ViciEncodeError);
  });
});

describe('VICI framer', () => {
  const packets: ViciPacket[] = [
    { type: 'event', event: 'list-sa', message: { conn: { uniqueid: '1', 'child-sas': {} } } },
    { type: 'event-confirm' },
    { type: 'cmd-response', message: { success: 'yes', list: ['a', 'b'] } },
  ];
  const stream = Buffer.concat(packets.map(encodePacket));

  const decodeAll = (chunks: Buffer[]): ViciPacket[] => {
    const framer = new ViciFramer();
    const out: ViciPacket[] = [];
    for (const chunk of chunks) {
      const payloads = framer.push(chunk);
      assert.ok(Array.isArray(payloads));
      for (const p of payloads) {
        const packet = decodePacket(p);
        assert.ok(!isViciDecodeError(packet));
        out.push(packet);
      }
    }
    assert.equal(framer.bufferedBytes, 0);
    return out;
  };

  test('whole stream in one chunk', () => assert.deepEqual(decodeAll([stream]), packets));
  test('split at every single position', () => {
    for (let i = 1; i < stream.length; i++) {
      assert.deepEqual(decodeAll([stream.subarray(0, i), stream.subarray(i)]), packets, `split at ${i}`);
    }
  });
  test('each message split at its start, middle and end', () => {
    let start = 0;
    for (const p of packets) {
      const len = encodePacket(p).length;
      for (const cut of [start, start + 1, start + 2, start + 4, start + Math.floor(len / 2), start + len - 1, start + len]) {
        if (cut <= 0 || cut >= stream.length) continue;
        assert.deepEqual(decodeAll([stream.subarray(0, cut), stream.subarray(cut)]), packets, `cut ${cut}`);
      }
      start += len;
    }
  });
  test('one byte at a time', () => {
    assert.deepEqual(decodeAll([...stream].map((b) => Buffer.of(b))), packets);
  });
  test('keeps an incomplete tail', () => {
    const framer = new ViciFramer();
    const payloads = framer.push(stream.subarray(0, stream.length - 3));
    assert.ok(Array.isArray(payloads));
    assert.equal(payloads.length, 2);
    assert.ok(framer.bufferedBytes > 0);
  });
  test('rejects an absurd length and stays failed', () => {
    const framer = new ViciFramer();
    const header = Buffer.alloc(4);
    header.writeUInt32BE(MAX_SEGMENT_LENGTH + 1);
    const result = framer.push(header);
    assert.ok(isViciDecodeError(result));
    assert.equal(result.code, 'frame-too-large');
    assert.ok(isViciDecodeError(framer.push(encodePacket({ type: 'event-confirm' }))));
  });
  test('accepts a segment of exactly the maximum length', () => {
    const framer = new ViciFramer(16);
    const seg = Buffer.concat([Buffer.from([0, 0, 0, 16]), Buffer.alloc(16, 5)]);
    const result = framer.push(seg);
    assert.ok(Array.isArray(result));
    assert.equal(result[0]?.length, 16);
  });
});
