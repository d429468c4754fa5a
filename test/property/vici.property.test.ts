/**
 * Property tests for the VICI codec (strongSwan vici README: message format, packet layer, transport framing):
 * message and packet round trips, any chunking of a valid stream yields the same packets, and arbitrary or
 * mutated bytes decode to a value or a ViciDecodeError without throwing, looping or over-allocating.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ViciDecodeError,
  ViciFramer,
  decodeMessage,
  decodePacket,
  encodeMessage,
  encodePacket,
  encodePacketPayload,
  type ViciMessage,
  type ViciPacket,
  type ViciScalar,
  type ViciSection,
  type ViciValue,
} from '../../edge-agent/src/vici';
import { anyBytes, assertNoBulkAllocation, assertTotal, mutatedArb, rec, runs, text } from './support';

const isError = (v: unknown): v is ViciDecodeError => v instanceof ViciDecodeError;

/** Names: 1..255 UTF-8 bytes; include the awkward ones ("__proto__", integer-like keys). */
const nameArb = fc.oneof(
  { weight: 6, arbitrary: text(20, 1).filter((s) => Buffer.byteLength(s) <= 255) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', '0', '1', '10', 'toString') },
);
/** Decoding yields a string for valid UTF-8 and a Buffer otherwise, so blobs start with 0xff (never UTF-8). */
const scalarArb: fc.Arbitrary<ViciScalar> = fc.oneof(
  { weight: 4, arbitrary: text(60) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from([0xff, ...b])) },
);

/** A section built with defineProperty, exactly like the decoder builds it (so "__proto__" is an own key). */
function section(entries: ReadonlyArray<readonly [string, ViciValue]>): ViciSection {
  const out: Record<string, ViciValue> = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

const { message: messageArb } = fc.letrec<{ message: ViciSection; value: ViciValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalarArb,
    fc.array(scalarArb, { maxLength: 5 }),
    tie('message'),
  ),
  message: fc
    .uniqueArray(fc.tuple(nameArb, tie('value')), { maxLength: 6, selector: ([k]) => k })
    .map((entries) => section(entries)),
}));

const packetArb: fc.Arbitrary<ViciPacket> = fc.oneof(
  rec({ type: fc.constant('cmd-request' as const), command: nameArb, message: messageArb }),
  rec({ type: fc.constant('cmd-response' as const), message: messageArb }),
  rec({ type: fc.constant('cmd-unknown' as const) }),
  rec({ type: fc.constantFrom('event-register' as const, 'event-unregister' as const), event: nameArb }),
  rec({ type: fc.constant('event-confirm' as const) }),
  rec({ type: fc.constant('event-unknown' as const) }),
  rec({ type: fc.constant('event' as const), event: nameArb, message: messageArb }),
);

describe('VICI messages and packets', () => {
  test('encodeMessage -> decodeMessage round-trips (sections, lists, blobs, awkward keys)', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const decoded = decodeMessage(encodeMessage(m));
        assert.ok(!isError(decoded), isError(decoded) ? decoded.toString() : '');
        assert.deepEqual(decoded, m);
      }),
      runs(400),
    );
  });

  test('every packet type round-trips', () => {
    fc.assert(fc.property(packetArb, (p) => assert.deepEqual(decodePacket(encodePacketPayload(p)), p)), runs(400));
  });

  test('arbitrary and mutated bytes: a message/packet or an error', () => {
    const checks = [
      { name: 'decodeMessage', decode: (b: Uint8Array) => decodeMessage(b) as unknown },
      { name: 'decodePacket', decode: (b: Uint8Array) => decodePacket(b) as unknown },
    ];
    const valid = fc.oneof(messageArb.map((m) => new Uint8Array(encodeMessage(m))), packetArb.map((p) => new Uint8Array(encodePacketPayload(p))));
    fc.assert(
      fc.property(fc.oneof(anyBytes, mutatedArb(valid)), (input) => {
        for (const c of checks) assertTotal(c, input);
      }),
      runs(1500),
    );
  });

  test('deep nesting and huge value lengths are refused cheaply', () => {
    const deep = new Uint8Array(20_000 * 3);
    for (let i = 0; i < deep.length; i += 3) deep.set([1, 1, 0x61], i); // SECTION_START "a", forever
    const r = decodeMessage(deep);
    assert.ok(isError(r) && r.code === 'too-deep');
    const hostile = [
      Uint8Array.of(3, 1, 0x6b, 0xff, 0xff, 0x41), // KEY_VALUE "k" claiming 65535 bytes
      Uint8Array.of(4, 1, 0x6c, 5, 0xff, 0xff), // LIST_ITEM claiming 65535 bytes
      Uint8Array.of(3, 0xff, 0x6b), // name claiming 255 bytes
    ];
    for (const b of hostile) assert.ok(isError(decodeMessage(b)));
    assertNoBulkAllocation('decodeMessage', decodeMessage, hostile);
  });
});

/** Splits `stream` at the given cut points (taken modulo its length, sorted). */
function split(stream: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => (stream.length === 0 ? 0 : c % (stream.length + 1))))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, stream.length]) {
    chunks.push(stream.subarray(at, p));
    at = p;
  }
  return chunks;
}

describe('VICI stream framer', () => {
  test('any chunking of a valid stream yields the same packets', () => {
    fc.assert(
      fc.property(fc.array(packetArb, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 20 }), (packets, cuts) => {
        const stream = Buffer.concat(packets.map(encodePacket));
        const framer = new ViciFramer();
        const out: Buffer[] = [];
        for (const chunk of split(stream, cuts)) {
          const r = framer.push(chunk);
          assert.ok(!isError(r), isError(r) ? r.toString() : '');
          out.push(...r);
        }
        assert.equal(framer.bufferedBytes, 0);
        assert.deepEqual(out.map((p) => decodePacket(p)), packets);
      }),
      runs(300),
    );
  });

  test('byte-by-byte delivery yields the same packets', () => {
    fc.assert(
      fc.property(fc.array(packetArb, { minLength: 1, maxLength: 3 }), (packets) => {
        const stream = Buffer.concat(packets.map(encodePacket));
        const framer = new ViciFramer();
        const out: Buffer[] = [];
        for (const byte of stream) {
          const r = framer.push(Uint8Array.of(byte));
          assert.ok(!isError(r));
          out.push(...r);
        }
        assert.deepEqual(out.map((p) => decodePacket(p)), packets);
      }),
      runs(60),
    );
  });

  test('arbitrary chunks never throw; a length beyond the limit fails the stream without buffering it', () => {
    fc.assert(
      fc.property(fc.array(anyBytes, { maxLength: 10 }), (chunks) => {
        const framer = new ViciFramer(1024);
        for (const c of chunks) {
          const started = performance.now();
          const r = framer.push(c);
          assert.ok(performance.now() - started < 2000, 'hang guard, not a speed figure');
          if (isError(r)) {
            assert.equal(r.code, 'frame-too-large');
            assert.equal(framer.bufferedBytes, 0);
          } else {
            assert.ok(framer.bufferedBytes <= 4 + 1024);
          }
        }
      }),
      runs(500),
    );
    const framer = new ViciFramer();
    const r = framer.push(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0));
    assert.ok(isError(r) && r.code === 'frame-too-large');
    assert.equal(framer.bufferedBytes, 0);
    assert.ok(isError(framer.push(encodePacket({ type: 'cmd-unknown' }))), 'a broken stream stays broken');
  });
});

// Type-level check that the arbitraries produce what the codec accepts.
const _typecheck: fc.Arbitrary<ViciMessage> = messageArb;
void _typecheck;
