/** CHAP and Microsoft (RFC 2548) attributes: the byte layout, and malformed values as error values. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Attr,
  chapPasswordAttribute,
  decodeVendorAttribute,
  encodeResponse,
  isRadiusCodecError,
  MICROSOFT_VENDOR_ID,
  msChap2ResponseAttribute,
  msChapChallengeAttribute,
  MsAttr,
  readMsChap2Success,
  readMsChapError,
  vendorAttribute,
  type RadiusAttribute,
  type RadiusPacket,
} from '../../../../functions/src/radius';

const packet = (attributes: RadiusAttribute[]): RadiusPacket => ({ code: 2, identifier: 0, authenticator: Buffer.alloc(16), attributes });

describe('RADIUS authentication attributes', () => {
  test('CHAP-Password is the CHAP id then the response (RFC 2865 §5.3)', () => {
    const a = chapPasswordAttribute(0x16, Buffer.alloc(16, 0xab)) as RadiusAttribute;
    assert.equal(a.type, Attr.ChapPassword);
    assert.deepEqual(a.value, Buffer.concat([Buffer.from([0x16]), Buffer.alloc(16, 0xab)]));
    assert.ok(isRadiusCodecError(chapPasswordAttribute(1, Buffer.alloc(15))));
  });

  test('MS-CHAP-Challenge and MS-CHAP2-Response: vendor 311, types 11 and 25, 50-byte response (RFC 2548 §2.3.2)', () => {
    const ch = msChapChallengeAttribute(Buffer.alloc(16, 1)) as RadiusAttribute;
    assert.deepEqual(ch.value.subarray(0, 6), Buffer.from([0, 0, 0x01, 0x37, 11, 18]));
    const resp = msChap2ResponseAttribute(7, Buffer.alloc(16, 2), Buffer.alloc(24, 3)) as RadiusAttribute;
    assert.equal(resp.type, Attr.VendorSpecific);
    const [sub] = decodeVendorAttribute(resp) as { vendorId: number; vendorType: number; value: Buffer }[];
    assert.equal(sub!.vendorId, MICROSOFT_VENDOR_ID);
    assert.equal(sub!.vendorType, MsAttr.Chap2Response);
    assert.equal(sub!.value.length, 50);
    assert.deepEqual([sub!.value[0], sub!.value[1]], [7, 0]);
    assert.deepEqual(sub!.value.subarray(2, 18), Buffer.alloc(16, 2));
    assert.deepEqual(sub!.value.subarray(18, 26), Buffer.alloc(8));
    assert.deepEqual(sub!.value.subarray(26), Buffer.alloc(24, 3));
    assert.ok(isRadiusCodecError(msChap2ResponseAttribute(7, Buffer.alloc(15), Buffer.alloc(24))));
    assert.ok(isRadiusCodecError(msChapChallengeAttribute(Buffer.alloc(8))));
  });

  test('MS-CHAP2-Success yields the "S=" authenticator response; a malformed one is an error value', () => {
    const s = 'S=' + '0123456789abcdef'.repeat(2) + '01234567';
    const ok = vendorAttribute(MICROSOFT_VENDOR_ID, MsAttr.Chap2Success, Buffer.concat([Buffer.from([7]), Buffer.from(s)])) as RadiusAttribute;
    assert.equal(readMsChap2Success(packet([ok])), 'S=' + s.slice(2).toUpperCase());
    assert.equal(readMsChap2Success(packet([])), undefined);
    const bad = vendorAttribute(MICROSOFT_VENDOR_ID, MsAttr.Chap2Success, Buffer.from([7, 0x53, 0x3d, 0x31])) as RadiusAttribute;
    assert.ok(isRadiusCodecError(readMsChap2Success(packet([bad]))));
    const overrun: RadiusAttribute = { type: Attr.VendorSpecific, value: Buffer.from([0, 0, 1, 0x37, 26, 60, 1]) };
    assert.ok(isRadiusCodecError(readMsChap2Success(packet([overrun]))));
    const err = vendorAttribute(MICROSOFT_VENDOR_ID, MsAttr.ChapError, Buffer.concat([Buffer.from([7]), Buffer.from('E=691 R=0 V=3')])) as RadiusAttribute;
    assert.equal(readMsChapError(packet([err])), 'E=691 R=0 V=3');
  });

  test('another vendor with the same sub-type is not mistaken for Microsoft', () => {
    const other = vendorAttribute(9, MsAttr.Chap2Success, Buffer.concat([Buffer.from([7]), Buffer.from('S=' + '0'.repeat(40))])) as RadiusAttribute;
    assert.equal(readMsChap2Success(packet([other])), undefined);
  });

  test('a vendor value too long for one attribute is an error value; encodeResponse carries VSAs', () => {
    assert.ok(isRadiusCodecError(vendorAttribute(311, 1, Buffer.alloc(248))));
    const vsa = vendorAttribute(311, 26, Buffer.alloc(43, 0x41)) as RadiusAttribute;
    assert.ok(Buffer.isBuffer(encodeResponse({ code: 2, identifier: 1, requestAuthenticator: Buffer.alloc(16), secret: Buffer.from('x'), attributes: [vsa] })));
  });
});
