/**
 * Property tests for the L2TP codecs (RFC 2661): header, data fast path, raw and hidden AVPs (§4.1, §4.3) and every
 * control message type of §6. Valid values round-trip; arbitrary and mutated bytes decode to a value or an
 * L2tpDecodeError, quickly and without allocating more than the input justifies.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  AVP_BY_FIELD,
  MESSAGE_RULES,
  MessageType,
  L2tpDecodeError,
  decodeAvps,
  decodeControlMessage,
  decodeDataHeader,
  decodeHeader,
  decodePacket,
  encodeAvps,
  encodeControlMessage,
  encodePacket,
  hideAvpValue,
  unhideAvpValue,
  type AvpField,
  type ControlMessage,
  type HeaderFields,
  type MessageTypeName,
  type RawAvp,
} from '../../edge-agent/src/l2tp';
import { MAX_ERROR_CODE, MAX_RESULT_CODE } from '../../edge-agent/src/l2tp/message-rules';
import { anyBytes, assertNoBulkAllocation, assertTotal, mutatedArb, rec, runs, text } from './support';

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const isError = (v: unknown): v is L2tpDecodeError => v instanceof L2tpDecodeError;

// ---- header ---------------------------------------------------------------------------------------------------

const controlHeaderArb: fc.Arbitrary<HeaderFields> = rec({
  isControl: fc.constant(true),
  tunnelId: u16,
  sessionId: u16,
  ns: u16,
  nr: u16,
});

const dataHeaderArb: fc.Arbitrary<HeaderFields> = fc
  .record({
    tunnelId: u16,
    sessionId: u16,
    withLength: fc.boolean(),
    seq: fc.option(fc.tuple(u16, u16), { nil: undefined }),
    offsetSize: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
    priority: fc.boolean(),
  })
  .map(({ seq, offsetSize, ...rest }) => ({
    isControl: false,
    ...rest,
    ...(seq ? { ns: seq[0], nr: seq[1] } : {}),
    ...(offsetSize !== undefined ? { offsetSize } : {}),
  }));

const packetArb = fc.tuple(fc.oneof(controlHeaderArb, dataHeaderArb), bytes(0, 200));

describe('L2TP header', () => {
  test('encodePacket -> decodePacket round-trips every header form', () => {
    fc.assert(
      fc.property(packetArb, ([fields, payload]) => {
        const wire = encodePacket(fields, payload);
        const p = decodePacket(wire);
        assert.ok(!isError(p), String(p));
        assert.equal(p.header.isControl, fields.isControl);
        assert.equal(p.header.tunnelId, fields.tunnelId);
        assert.equal(p.header.sessionId, fields.sessionId);
        assert.equal(p.header.ns, fields.ns);
        assert.equal(p.header.nr, fields.nr);
        assert.equal(p.header.offsetSize, fields.offsetSize);
        assert.equal(p.header.priority, fields.priority === true);
        assert.deepEqual(p.payload, payload);
      }),
      runs(500),
    );
  });

  test('the data fast path agrees with the general decoder on valid data packets', () => {
    fc.assert(
      fc.property(dataHeaderArb, bytes(0, 100), (fields, payload) => {
        const wire = encodePacket(fields, payload);
        const v = decodeDataHeader(wire);
        assert.ok(!isError(v), String(v));
        assert.equal(v.tunnelId, fields.tunnelId);
        assert.equal(v.sessionId, fields.sessionId);
        assert.deepEqual(wire.subarray(v.payloadOffset, v.payloadOffset + v.payloadLength), payload);
      }),
      runs(300),
    );
  });

  test('arbitrary and mutated bytes: a header or an error, and both decoders agree on data packets', () => {
    const general = { name: 'decodePacket', decode: decodePacket };
    const fast = { name: 'decodeDataHeader', decode: (b: Uint8Array) => decodeDataHeader(b) };
    const valid = packetArb.map(([f, p]) => encodePacket(f, p));
    fc.assert(
      fc.property(fc.oneof(anyBytes, mutatedArb(valid)), (input) => {
        const p = assertTotal(general, input);
        const d = assertTotal(fast, input);
        if (input.length > 0 && ((input[0] as number) & 0x80) === 0) {
          assert.equal(isError(p), isError(d), `decoders disagree on ${Buffer.from(input).toString('hex')}`);
          if (!isError(p) && !isError(d)) {
            assert.equal(d.payloadOffset, p.header.headerLength);
            assert.equal(d.payloadLength, p.payload.length);
          }
        }
      }),
      runs(2000),
    );
  });

  test('a Length or Offset Size of 65535 on a short datagram is refused without allocating', () => {
    const hostile = [
      Uint8Array.of(0xc8, 0x02, 0xff, 0xff, 0, 1, 0, 0, 0, 0, 0, 0), // control, Length 65535
      Uint8Array.of(0x02, 0x02, 0, 1, 0, 0, 0xff, 0xff), // data, Offset Size 65535
      Uint8Array.of(0x42, 0x02, 0xff, 0xff, 0, 1, 0, 0), // data, Length 65535
    ];
    for (const b of hostile) {
      assert.ok(isError(decodePacket(b)));
      assert.ok(isError(decodeDataHeader(b)));
    }
    assertNoBulkAllocation('decodePacket', decodePacket, hostile);
  });
});

// ---- AVPs -----------------------------------------------------------------------------------------------------

const rawAvpArb = (hidden: fc.Arbitrary<boolean>): fc.Arbitrary<RawAvp> =>
  rec({
    mandatory: fc.boolean(),
    hidden,
    vendorId: fc.oneof(fc.constant(0), u16),
    attributeType: u16,
    value: bytes(0, 120),
  });

const SECRET = new TextEncoder().encode('tunnel-secret');

describe('L2TP AVPs', () => {
  test('encodeAvps -> decodeAvps round-trips plain and hidden AVPs', () => {
    const listArb = fc.tuple(bytes(16, 16), fc.array(rawAvpArb(fc.boolean()), { maxLength: 12 }));
    fc.assert(
      fc.property(listArb, ([rv, rest]) => {
        const avps: RawAvp[] = [{ mandatory: true, hidden: false, vendorId: 0, attributeType: 36, value: rv }, ...rest];
        const decoded = decodeAvps(encodeAvps(avps, { secret: SECRET }), { secret: SECRET });
        assert.ok(!isError(decoded), String(decoded));
        assert.deepEqual(decoded, avps);
      }),
      runs(400),
    );
  });

  test('hide -> unhide round-trips with any padding; a wrong secret never throws', () => {
    fc.assert(
      fc.property(u16, bytes(0, 200), bytes(1, 32), bytes(16, 16), fc.nat({ max: 40 }), (type, value, secret, rv, pad) => {
        const hidden = hideAvpValue(type, value, secret, rv, pad);
        assert.deepEqual(unhideAvpValue(type, hidden, secret, rv), value);
        const wrong = Uint8Array.from(secret, (b) => b ^ 0x5a);
        const r = unhideAvpValue(type, hidden, wrong, rv);
        assert.ok(isError(r) || r.length <= hidden.length - 2);
      }),
      runs(300),
    );
  });

  test('arbitrary and mutated AVP bodies decode to AVPs or an error, with and without a secret', () => {
    const valid = fc
      .tuple(bytes(16, 16), fc.array(rawAvpArb(fc.boolean()), { maxLength: 6 }))
      .map(([rv, rest]) => encodeAvps([{ mandatory: true, hidden: false, vendorId: 0, attributeType: 36, value: rv }, ...rest], { secret: SECRET }));
    const plain = { name: 'decodeAvps', decode: (b: Uint8Array) => decodeAvps(b) };
    const withSecret = { name: 'decodeAvps(secret)', decode: (b: Uint8Array) => decodeAvps(b, { secret: SECRET }) };
    fc.assert(
      fc.property(fc.oneof(anyBytes, mutatedArb(valid)), (input) => {
        assertTotal(plain, input);
        assertTotal(withSecret, input);
      }),
      runs(1500),
    );
  });
});

// ---- control messages -----------------------------------------------------------------------------------------

/** A valid value for each AVP field, within what the codec can represent exactly. */
function fieldArb(field: AvpField, type: MessageTypeName): fc.Arbitrary<unknown> {
  switch (field) {
    case 'resultCode': {
      // Codes above the defined range would be "un-swapped" by the lenient decoder (docs/interop.md), so stay in it.
      const max = MAX_RESULT_CODE[type] ?? 0xffff;
      return fc.oneof(
        rec({ resultCode: fc.integer({ min: 1, max }) }),
        rec({ resultCode: fc.integer({ min: 1, max }), errorCode: fc.integer({ min: 0, max: MAX_ERROR_CODE }) }),
        rec({
          resultCode: fc.integer({ min: 1, max }),
          errorCode: fc.integer({ min: 0, max: MAX_ERROR_CODE }),
          // An empty message is the same as none on the wire (§4.4.2: the message is optional).
          errorMessage: text(40, 1),
        }),
      );
    }
    case 'protocolVersion':
      return rec({ version: fc.nat({ max: 255 }), revision: fc.nat({ max: 255 }) });
    case 'q931Cause':
      return fc.oneof(
        rec({ causeCode: u16, causeMessage: fc.nat({ max: 255 }) }),
        rec({ causeCode: u16, causeMessage: fc.nat({ max: 255 }), advisory: text(40, 1) }),
      );
    case 'callErrors':
      return rec({
        crcErrors: u32,
        framingErrors: u32,
        hardwareOverruns: u32,
        bufferOverruns: u32,
        timeoutErrors: u32,
        alignmentErrors: u32,
      });
    case 'accm':
      return rec({ sendAccm: u32, receiveAccm: u32 });
    case 'tieBreaker':
      return bytes(8, 8);
    case 'challengeResponse':
      return bytes(16, 16);
    case 'challenge':
    case 'initialReceivedLcpConfReq':
    case 'lastSentLcpConfReq':
    case 'lastReceivedLcpConfReq':
    case 'proxyAuthenChallenge':
    case 'proxyAuthenResponse':
    case 'privateGroupId':
      return bytes(0, 64);
    case 'hostName':
    case 'vendorName':
    case 'calledNumber':
    case 'callingNumber':
    case 'subAddress':
    case 'proxyAuthenName':
      return text(40);
    case 'proxyAuthenId':
      return fc.nat({ max: 255 });
    case 'sequencingRequired':
      return fc.constant(true);
    case 'firmwareRevision':
    case 'assignedTunnelId':
    case 'receiveWindowSize':
    case 'assignedSessionId':
    case 'proxyAuthenType':
      return u16;
    default:
      return u32;
  }
}

const vendorAvpArb: fc.Arbitrary<RawAvp> = rec({
  mandatory: fc.boolean(),
  hidden: fc.constant(false),
  vendorId: fc.integer({ min: 1, max: 0xffff }),
  attributeType: u16,
  value: bytes(0, 40),
});

function messageArb(type: MessageTypeName): fc.Arbitrary<ControlMessage> {
  const rule = MESSAGE_RULES[type];
  const required = Object.fromEntries(rule.required.map((f) => [f, fieldArb(f, type)]));
  const optional = Object.fromEntries(rule.optional.map((f) => [f, fieldArb(f, type)]));
  return fc
    .tuple(
      rec(required),
      fc.record(optional, { requiredKeys: [], noNullPrototype: true }),
      fc.array(vendorAvpArb, { maxLength: 3 }),
    )
    .map(([req, opt, vendor]) => ({ type, ...req, ...opt, ...(vendor.length > 0 ? { unknownAvps: vendor } : {}) }) as ControlMessage);
}

const TYPES = Object.keys(MessageType) as MessageTypeName[];
const anyMessageArb = fc.constantFrom(...TYPES).chain(messageArb);

describe('L2TP control messages', () => {
  for (const type of TYPES) {
    test(`${type} (§${MESSAGE_RULES[type].section}) round-trips, in the clear and with hidden AVPs`, () => {
      fc.assert(
        fc.property(messageArb(type), bytes(16, 16), fc.double({ min: 0, max: 1, noNaN: true }), (msg, rv, share) => {
          assert.deepEqual(decodeControlMessage(encodeControlMessage(msg)), msg);
          const present = Object.keys(msg).filter((k) => AVP_BY_FIELD.has(k as AvpField)) as AvpField[];
          const hide = present.filter((_, i) => i / Math.max(1, present.length) < share);
          if (hide.length === 0) return;
          const wire = encodeControlMessage(msg, { hide, secret: SECRET, randomVector: rv });
          assert.deepEqual(decodeControlMessage(wire, { secret: SECRET }), msg);
          // Without the secret a hidden AVP is an error value, never a guess.
          const blind = decodeControlMessage(wire);
          assert.ok(isError(blind) && blind.code === 'hidden-avp-without-secret');
        }),
        runs(60),
      );
    });
  }

  test('arbitrary and mutated message bodies decode to a message or an error', () => {
    const valid = anyMessageArb.map((m) => encodeControlMessage(m));
    const hiddenValid = fc
      .tuple(anyMessageArb, bytes(16, 16))
      .map(([m, rv]) => {
        const hide = Object.keys(m).filter((k) => AVP_BY_FIELD.has(k as AvpField)) as AvpField[];
        return encodeControlMessage(m, hide.length ? { hide, secret: SECRET, randomVector: rv } : {});
      });
    const checks = [
      { name: 'decodeControlMessage', decode: (b: Uint8Array) => decodeControlMessage(b) },
      { name: 'decodeControlMessage(secret)', decode: (b: Uint8Array) => decodeControlMessage(b, { secret: SECRET }) },
      {
        name: 'decodeControlMessage(strict)',
        decode: (b: Uint8Array) => decodeControlMessage(b, { secret: SECRET, permissiveMandatoryAvps: false }),
      },
    ];
    fc.assert(
      fc.property(fc.oneof(anyBytes, mutatedArb(valid), mutatedArb(hiddenValid)), (input) => {
        for (const c of checks) assertTotal(c, input);
      }),
      runs(1500),
    );
  });

  test('a whole control packet from the wire: header then body, mutated anywhere', () => {
    const valid = fc
      .tuple(anyMessageArb, controlHeaderArb)
      .map(([m, h]) => encodePacket(h, encodeControlMessage(m)));
    const wire = {
      name: 'decodePacket+decodeControlMessage',
      decode: (b: Uint8Array) => {
        const p = decodePacket(b);
        return isError(p) ? p : p.header.isControl ? decodeControlMessage(p.payload, { secret: SECRET }) : p;
      },
    };
    fc.assert(fc.property(mutatedArb(valid), (input) => void assertTotal(wire, input)), runs(1000));
  });

  test('sanity: the header decoder tells the fields of a control header apart', () => {
    const h = decodeHeader(encodePacket({ isControl: true, tunnelId: 1, sessionId: 2, ns: 3, nr: 4 }));
    assert.ok(!isError(h));
    assert.deepEqual([h.tunnelId, h.sessionId, h.ns, h.nr, h.length], [1, 2, 3, 4, 12]);
  });
});
