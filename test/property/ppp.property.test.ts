/**
 * Property tests for the PPP codecs: frame header (RFC 1661 §2, §6.5, §6.6), control packets and options (§5, §6),
 * LCP, IPCP (RFC 1332, RFC 1877), PAP (RFC 1334), CHAP (RFC 1994) and the MS-CHAPv2 specifics (RFC 2759).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  PppDecodeError,
  decodeChapPacket,
  decodeControlPacket,
  decodeFrame,
  decodeFrameHeader,
  decodeIpcpOptions,
  decodeLcpOptions,
  decodeLcpPacket,
  decodeMsChapV2ResponseValue,
  decodeOptions,
  decodePapPacket,
  encodeChapPacket,
  encodeControlPacket,
  encodeFrame,
  encodeIpcpOptions,
  encodeLcpOptions,
  encodeLcpPacket,
  encodeMsChapV2ResponseValue,
  encodeOptions,
  encodePapPacket,
  formatMsChapV2Failure,
  formatMsChapV2Success,
  parseMsChapV2Failure,
  parseMsChapV2Success,
  type ChapPacket,
  type IpcpOption,
  type LcpOption,
  type LcpPacket,
  type PapPacket,
} from '../../edge-agent/src/ppp';
import { anyBytes, assertNoBulkAllocation, assertTotal, mutatedArb, rec, runs, text, type TotalDecoderCheck } from './support';

const isError = (v: unknown): v is PppDecodeError => v instanceof PppDecodeError;
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const u8 = fc.nat({ max: 255 });
const u16 = fc.nat({ max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const utf8Len = (s: string) => Buffer.byteLength(s, 'utf8');
/** A string of at most `maxBytes` UTF-8 bytes (one length octet on the wire). */
const shortText = (maxBytes: number) => text(60).filter((s) => utf8Len(s) <= maxBytes);

// RFC 1661 §2: first octet even, last octet odd. 0x00FF is reserved ("compression inefficient") and would read as
// an Address field when sent compressed, so it is left out.
const protocolArb = fc
  .tuple(fc.nat({ max: 127 }), fc.nat({ max: 127 }))
  .map(([hi, lo]) => ((hi * 2) << 8) | (lo * 2 + 1))
  .filter((p) => p !== 0x00ff);

describe('PPP frame', () => {
  test('encodeFrame -> decodeFrame round-trips with and without ACFC/PFC', () => {
    fc.assert(
      fc.property(protocolArb, bytes(0, 100), fc.boolean(), fc.boolean(), (protocol, payload, acfc, pfc) => {
        const f = decodeFrame(encodeFrame(protocol, payload, { acfc, pfc }));
        assert.ok(!isError(f), String(f));
        assert.equal(f.protocol, protocol);
        assert.deepEqual(f.payload, payload);
      }),
      runs(500),
    );
  });

  test('arbitrary bytes at any offset: a header or an error', () => {
    const header = { name: 'decodeFrameHeader', decode: (b: Uint8Array) => decodeFrameHeader(b, b.length > 0 ? (b[0] as number) % (b.length + 2) : 0) };
    const frame = { name: 'decodeFrame', decode: decodeFrame };
    fc.assert(
      fc.property(anyBytes, (input) => {
        assertTotal(header, input);
        const f = assertTotal(frame, input);
        if (!isError(f)) assert.ok(f.payload.length <= input.length);
      }),
      runs(1000),
    );
  });
});

const optionArb = rec({ type: u8, data: bytes(0, 40) });

describe('PPP control packets and options', () => {
  test('control packet and option list round-trip; padding beyond Length is ignored (§5)', () => {
    fc.assert(
      fc.property(u8, u8, fc.array(optionArb, { maxLength: 8 }), bytes(0, 8), (code, identifier, options, pad) => {
        const data = encodeOptions(options);
        const wire = Uint8Array.from([...encodeControlPacket({ code, identifier, data }), ...pad]);
        const p = decodeControlPacket(wire);
        assert.ok(!isError(p), String(p));
        assert.deepEqual([p.code, p.identifier], [code, identifier]);
        assert.deepEqual(p.data, data);
        assert.deepEqual(decodeOptions(p.data), options);
      }),
      runs(400),
    );
  });

  test('arbitrary and mutated bytes: packet/options or an error', () => {
    const valid = fc.tuple(u8, u8, fc.array(optionArb, { maxLength: 6 })).map(([code, identifier, o]) =>
      encodeControlPacket({ code, identifier, data: encodeOptions(o) }),
    );
    const checks: TotalDecoderCheck<unknown>[] = [
      { name: 'decodeControlPacket', decode: decodeControlPacket },
      { name: 'decodeOptions', decode: decodeOptions },
      { name: 'decodeLcpOptions', decode: decodeLcpOptions },
      { name: 'decodeIpcpOptions', decode: decodeIpcpOptions },
    ];
    fc.assert(
      fc.property(fc.oneof(anyBytes, mutatedArb(valid)), (input) => {
        for (const c of checks) assertTotal(c, input);
      }),
      runs(1000),
    );
  });

  test('a Length of 65535 on a short packet is refused without allocating', () => {
    const hostile = [Uint8Array.of(1, 1, 0xff, 0xff), Uint8Array.of(1, 1, 0xff, 0xff, 3, 0xff, 0)];
    for (const b of hostile) assert.ok(isError(decodeControlPacket(b)));
    assertNoBulkAllocation('decodeLcpPacket', decodeLcpPacket, hostile);
  });
});

const KNOWN_LCP = new Set([1, 2, 3, 5, 7, 8]);
const lcpOptionArb: fc.Arbitrary<LcpOption> = fc.oneof(
  rec({ kind: fc.constant('mru' as const), value: u16 }),
  rec({ kind: fc.constant('accm' as const), value: u32 }),
  rec({ kind: fc.constant('auth-protocol' as const), protocol: u16, data: bytes(0, 8) }),
  rec({ kind: fc.constant('magic-number' as const), value: u32 }),
  rec({ kind: fc.constant('pfc' as const) }),
  rec({ kind: fc.constant('acfc' as const) }),
  rec({ kind: fc.constant('unknown' as const), type: u8.filter((t) => !KNOWN_LCP.has(t)), data: bytes(0, 20) }),
);

const lcpPacketArb: fc.Arbitrary<LcpPacket> = fc.oneof(
  rec({
    kind: fc.constantFrom('configure-request' as const, 'configure-ack' as const, 'configure-nak' as const, 'configure-reject' as const),
    identifier: u8,
    options: fc.array(lcpOptionArb, { maxLength: 8 }),
  }),
  rec({ kind: fc.constantFrom('terminate-request' as const, 'terminate-ack' as const), identifier: u8, data: bytes(0, 20) }),
  rec({ kind: fc.constant('code-reject' as const), identifier: u8, rejected: bytes(4, 40) }),
  rec({ kind: fc.constant('protocol-reject' as const), identifier: u8, protocol: u16, rejected: bytes(0, 40) }),
  rec({
    kind: fc.constantFrom('echo-request' as const, 'echo-reply' as const, 'discard-request' as const),
    identifier: u8,
    magic: u32,
    data: bytes(0, 20),
  }),
);

describe('LCP', () => {
  test('every LCP packet kind round-trips', () => {
    fc.assert(fc.property(lcpPacketArb, (p) => assert.deepEqual(decodeLcpPacket(encodeLcpPacket(p)), p)), runs(600));
  });

  test('arbitrary and mutated LCP packets: a packet or an error', () => {
    const check = { name: 'decodeLcpPacket', decode: decodeLcpPacket };
    fc.assert(fc.property(fc.oneof(anyBytes, mutatedArb(lcpPacketArb.map(encodeLcpPacket))), (b) => void assertTotal(check, b)), runs(1500));
  });

  test('LCP options round-trip on their own', () => {
    fc.assert(
      fc.property(fc.array(lcpOptionArb, { maxLength: 10 }), (o) => assert.deepEqual(decodeLcpOptions(encodeLcpOptions(o)), o)),
      runs(300),
    );
  });
});

const ipv4Arb = fc.tuple(u8, u8, u8, u8).map((p) => p.join('.'));
const KNOWN_IPCP = new Set([2, 3, 129, 130, 131, 132]);
const ipcpOptionArb: fc.Arbitrary<IpcpOption> = fc.oneof(
  rec({
    kind: fc.constantFrom('ip-address' as const, 'primary-dns' as const, 'secondary-dns' as const, 'primary-nbns' as const, 'secondary-nbns' as const),
    address: ipv4Arb,
  }),
  rec({ kind: fc.constant('ip-compression' as const), protocol: u16, data: bytes(0, 10) }),
  rec({ kind: fc.constant('unknown' as const), type: u8.filter((t) => !KNOWN_IPCP.has(t)), data: bytes(0, 20) }),
);

describe('IPCP', () => {
  test('IPCP options round-trip (addresses, DNS/NBNS, compression, unknown kept raw)', () => {
    fc.assert(
      fc.property(fc.array(ipcpOptionArb, { maxLength: 8 }), (o) => assert.deepEqual(decodeIpcpOptions(encodeIpcpOptions(o)), o)),
      runs(400),
    );
  });

  test('mutated IPCP option lists: options or an error', () => {
    const check = { name: 'decodeIpcpOptions', decode: decodeIpcpOptions };
    fc.assert(fc.property(mutatedArb(fc.array(ipcpOptionArb, { maxLength: 6 }).map(encodeIpcpOptions)), (b) => void assertTotal(check, b)), runs(800));
  });
});

const papArb: fc.Arbitrary<PapPacket> = fc.oneof(
  rec({ kind: fc.constant('authenticate-request' as const), identifier: u8, peerId: shortText(255), password: shortText(255) }),
  rec({ kind: fc.constantFrom('authenticate-ack' as const, 'authenticate-nak' as const), identifier: u8, message: shortText(255) }),
);

const chapArb: fc.Arbitrary<ChapPacket> = fc.oneof(
  rec({ kind: fc.constantFrom('challenge' as const, 'response' as const), identifier: u8, value: bytes(1, 255), name: text(40) }),
  rec({ kind: fc.constantFrom('success' as const, 'failure' as const), identifier: u8, message: text(80) }),
);

describe('PAP and CHAP', () => {
  test('PAP packets round-trip', () => {
    fc.assert(fc.property(papArb, (p) => assert.deepEqual(decodePapPacket(encodePapPacket(p)), p)), runs(400));
  });

  test('CHAP packets round-trip', () => {
    fc.assert(fc.property(chapArb, (p) => assert.deepEqual(decodeChapPacket(encodeChapPacket(p)), p)), runs(400));
  });

  test('MS-CHAPv2 Response value, Success and Failure strings round-trip (RFC 2759 §4-§6)', () => {
    fc.assert(
      fc.property(bytes(16, 16), bytes(24, 24), u8, bytes(20, 20), text(40), fc.nat({ max: 999 }), fc.boolean(), bytes(16, 16), fc.nat({ max: 99 }), (pc, nt, flags, auth, msg, error, retry, challenge, version) => {
        const v = decodeMsChapV2ResponseValue(encodeMsChapV2ResponseValue({ peerChallenge: pc, ntResponse: nt, flags }));
        assert.ok(!isError(v));
        assert.deepEqual([v.peerChallenge, v.ntResponse, v.flags], [pc, nt, flags]);
        const hex = Buffer.from(auth).toString('hex');
        assert.deepEqual(parseMsChapV2Success(formatMsChapV2Success(hex, msg)), { authenticatorResponse: hex.toUpperCase(), message: msg });
        const f = { error, retry, challenge, version, message: msg };
        assert.deepEqual(parseMsChapV2Failure(formatMsChapV2Failure(f)), f);
      }),
      runs(300),
    );
  });

  test('arbitrary and mutated PAP/CHAP packets: a packet or an error', () => {
    const checks: TotalDecoderCheck<unknown>[] = [
      { name: 'decodePapPacket', decode: decodePapPacket },
      { name: 'decodeChapPacket', decode: decodeChapPacket },
      { name: 'decodeMsChapV2ResponseValue', decode: decodeMsChapV2ResponseValue },
    ];
    const valid = fc.oneof(papArb.map(encodePapPacket), chapArb.map(encodeChapPacket));
    fc.assert(
      fc.property(fc.oneof(anyBytes, mutatedArb(valid)), (input) => {
        for (const c of checks) assertTotal(c, input);
      }),
      runs(1500),
    );
  });

  test('Success/Failure parsers: any text (also long, hostile to backtracking) parses or errors quickly', () => {
    const hostile = fc.oneof(
      text(200),
      fc.tuple(fc.constantFrom('S=', 'E=', 'E=691 R=1 C=', 'E=1 R=0 V='), fc.string({ unit: fc.constantFrom('0', 'A', ' ', 'M', '=', 'V'), maxLength: 3000 })).map(([a, b]) => a + b),
    );
    const success = { name: 'parseMsChapV2Success', decode: (b: Uint8Array) => parseMsChapV2Success(Buffer.from(b).toString('latin1')), sizeFactor: 8 };
    const failure = { name: 'parseMsChapV2Failure', decode: (b: Uint8Array) => parseMsChapV2Failure(Buffer.from(b).toString('latin1')), sizeFactor: 8 };
    fc.assert(
      fc.property(hostile, (s) => {
        const b = Buffer.from(s, 'latin1');
        assertTotal(success, b);
        assertTotal(failure, b);
      }),
      runs(300),
    );
  });
});
