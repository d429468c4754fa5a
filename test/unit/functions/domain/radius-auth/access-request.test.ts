/** What the broker puts in an Access-Request per PPP method, and what it takes from the answer. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { accessRequestParts, callingStationId, readAnswer } from '../../../../../functions/src/domain/radius-auth/access-request';
import {
  Attr,
  decodeVendorAttribute,
  encodeAccessRequest,
  integerAttribute,
  isRadiusCodecError,
  MsAttr,
  RadiusCode,
  textAttribute,
  vendorAttribute,
  type RadiusAttribute,
  type RadiusPacket,
} from '../../../../../functions/src/radius';

const common = { username: 'alice@acme', agentSessionRef: 'r1', peerAddress: '198.51.100.4:1701' };
const nas = { identifier: 'tunnel-broker', ipAddress: '192.0.2.10' };
const hex = (n: number, fill: number) => Buffer.alloc(n, fill).toString('hex');
const find = (attrs: readonly RadiusAttribute[], type: number) => attrs.find((a) => a.type === type)?.value;
const packet = (code: number, attributes: RadiusAttribute[]): RadiusPacket => ({ code, identifier: 1, authenticator: Buffer.alloc(16), attributes });

describe('Access-Request attributes', () => {
  test('common attributes: Framed/PPP, NAS-Identifier, NAS-IP-Address, NAS-Port-Type Virtual, Calling-Station-Id without the port', () => {
    const parts = accessRequestParts({ method: 'pap', ...common, password: 'pw' }, 'alice@acme', nas);
    assert.ok(!isRadiusCodecError(parts));
    const a = parts.attributes;
    assert.equal(find(a, Attr.UserName)?.toString(), 'alice@acme');
    assert.equal(find(a, Attr.ServiceType)?.readUInt32BE(0), 2);
    assert.equal(find(a, Attr.FramedProtocol)?.readUInt32BE(0), 1);
    assert.equal(find(a, Attr.NasIdentifier)?.toString(), 'tunnel-broker');
    assert.deepEqual(find(a, Attr.NasIpAddress), Buffer.from([192, 0, 2, 10]));
    assert.equal(find(a, Attr.NasPortType)?.readUInt32BE(0), 5);
    assert.equal(find(a, Attr.CallingStationId)?.toString(), '198.51.100.4');
    assert.deepEqual(parts.password, Buffer.from('pw'));
    assert.equal(callingStationId('203.0.113.9'), '203.0.113.9');
  });

  test('CHAP-MD5: CHAP-Password = id + response, CHAP-Challenge = the challenge', () => {
    const parts = accessRequestParts({ method: 'chap-md5', ...common, id: 42, challenge: hex(16, 7), response: hex(16, 9) }, 'alice@acme', nas);
    assert.ok(!isRadiusCodecError(parts));
    assert.deepEqual(find(parts.attributes, Attr.ChapPassword), Buffer.concat([Buffer.from([42]), Buffer.alloc(16, 9)]));
    assert.deepEqual(find(parts.attributes, Attr.ChapChallenge), Buffer.alloc(16, 7));
    assert.equal(parts.password, undefined);
  });

  test('MS-CHAPv2: MS-CHAP-Challenge and MS-CHAP2-Response with the Challenge Identifier', () => {
    const parts = accessRequestParts(
      { method: 'mschapv2', ...common, id: 9, authenticatorChallenge: hex(16, 1), peerChallenge: hex(16, 2), ntResponse: hex(24, 3) },
      'alice@acme',
      nas,
    );
    assert.ok(!isRadiusCodecError(parts));
    const subs = parts.attributes.filter((a) => a.type === Attr.VendorSpecific).flatMap((a) => decodeVendorAttribute(a) as { vendorType: number; value: Buffer }[]);
    assert.deepEqual(subs.find((s) => s.vendorType === MsAttr.ChapChallenge)?.value, Buffer.alloc(16, 1));
    const resp = subs.find((s) => s.vendorType === MsAttr.Chap2Response)!.value;
    assert.equal(resp[0], 9);
    assert.deepEqual(resp.subarray(26), Buffer.alloc(24, 3));
  });

  test('a hostile size is an error value, not a throw', () => {
    const parts = accessRequestParts({ method: 'chap-md5', ...common, id: 1, challenge: hex(300, 1), response: hex(16, 9) }, 'alice@acme', nas);
    assert.ok(isRadiusCodecError(parts));
    // A 256-byte PPP name passes the contract but not a RADIUS attribute (253): refused at encoding.
    const longName = accessRequestParts({ method: 'pap', ...common, password: 'x' }, 'a'.repeat(256), nas);
    assert.ok(!isRadiusCodecError(longName));
    const encoded = encodeAccessRequest({ identifier: 1, secret: Buffer.from('s'), requestAuthenticator: Buffer.alloc(16), attributes: longName.attributes });
    assert.ok(isRadiusCodecError(encoded) && encoded.code === 'value-too-long');
  });
});

describe('reading the answer', () => {
  const success = vendorAttribute(311, MsAttr.Chap2Success, Buffer.concat([Buffer.from([9]), Buffer.from('S=' + 'AB'.repeat(20))])) as RadiusAttribute;
  test('Access-Accept: authenticator response, Framed-IP, timeouts, Class', () => {
    const r = readAnswer(
      packet(RadiusCode.AccessAccept, [
        success,
        { type: Attr.FramedIpAddress, value: Buffer.from([10, 8, 0, 9]) },
        integerAttribute(Attr.SessionTimeout, 3600),
        integerAttribute(Attr.IdleTimeout, 300),
        textAttribute(Attr.Class, 'c1'),
      ]),
      'mschapv2',
    );
    assert.deepEqual(r, {
      kind: 'accept',
      grant: { authenticatorResponse: 'S=' + 'AB'.repeat(20), framedIp: '10.8.0.9', sessionTimeoutSeconds: 3600, idleTimeoutSeconds: 300, classes: [Buffer.from('c1').toString('base64')] },
    });
  });
  test('Framed-IP-Address 255.255.255.254 / .255 (RFC 2865 §5.8) means an address from the pool', () => {
    for (const last of [254, 255]) {
      const r = readAnswer(packet(RadiusCode.AccessAccept, [{ type: Attr.FramedIpAddress, value: Buffer.from([255, 255, 255, last]) }]), 'pap');
      assert.deepEqual(r, { kind: 'accept', grant: {} });
    }
  });
  test('MS-CHAPv2 accepted without MS-CHAP2-Success, an Access-Challenge, or a malformed integer: bad answers', () => {
    assert.equal(readAnswer(packet(RadiusCode.AccessAccept, []), 'mschapv2').kind, 'bad-answer');
    assert.equal(readAnswer(packet(RadiusCode.AccessChallenge, []), 'pap').kind, 'bad-answer');
    assert.equal(readAnswer(packet(RadiusCode.AccessAccept, [{ type: Attr.SessionTimeout, value: Buffer.from([1, 2]) }]), 'pap').kind, 'bad-answer');
    assert.deepEqual(readAnswer(packet(RadiusCode.AccessReject, []), 'pap'), { kind: 'reject' });
  });
  test('Access-Reject with MS-CHAP-Error E=647 (account disabled) is user-disabled; E=691 a plain reject', () => {
    const error = (text: string) => vendorAttribute(311, MsAttr.ChapError, Buffer.concat([Buffer.from([9]), Buffer.from(text)])) as RadiusAttribute;
    assert.deepEqual(readAnswer(packet(RadiusCode.AccessReject, [error('E=647 R=0 V=3')]), 'mschapv2'), { kind: 'reject', disabled: true });
    assert.deepEqual(readAnswer(packet(RadiusCode.AccessReject, [error('E=691 R=0 V=3')]), 'mschapv2'), { kind: 'reject' });
  });
});
