/** PAP packets (RFC 1334 §2.2). Strings are UTF-8 on the wire here; RFC 1334 only says "octets". */
import { concatBytes, fromUtf8, utf8 } from './bytes';
import { decodeControlPacket, encodeControlPacket } from './control-packet';
import { PppDecodeError } from './errors';
import { PAP_CODE } from './protocol-numbers';

export type PapPacket =
  | { readonly kind: 'authenticate-request'; readonly identifier: number; readonly peerId: string; readonly password: string }
  | { readonly kind: 'authenticate-ack' | 'authenticate-nak'; readonly identifier: number; readonly message: string };

export function decodePapPacket(buf: Uint8Array): PapPacket | PppDecodeError {
  const p = decodeControlPacket(buf);
  if (p instanceof PppDecodeError) return p;
  const d = p.data;
  switch (p.code) {
    case PAP_CODE.AUTHENTICATE_REQUEST: {
      const idLen = d[0];
      if (idLen === undefined) return new PppDecodeError('truncated', 'PAP request without Peer-ID Length', 4);
      const pwLen = d[1 + idLen];
      if (pwLen === undefined || 2 + idLen + pwLen > d.length)
        return new PppDecodeError('bad-length', 'PAP Peer-ID/Password overrun the packet', 4);
      return {
        kind: 'authenticate-request',
        identifier: p.identifier,
        peerId: utf8(d.subarray(1, 1 + idLen)),
        password: utf8(d.subarray(2 + idLen, 2 + idLen + pwLen)),
      };
    }
    case PAP_CODE.AUTHENTICATE_ACK:
    case PAP_CODE.AUTHENTICATE_NAK: {
      // Some peers send an Ack with no Msg-Length octet at all; treat it as an empty message.
      const len = d[0] ?? 0;
      if (1 + len > Math.max(d.length, 1)) return new PppDecodeError('bad-length', 'PAP message overruns the packet', 4);
      return {
        kind: p.code === PAP_CODE.AUTHENTICATE_ACK ? 'authenticate-ack' : 'authenticate-nak',
        identifier: p.identifier,
        message: utf8(d.subarray(1, 1 + len)),
      };
    }
    default:
      return new PppDecodeError('unknown-code', `PAP code ${p.code}`, 0);
  }
}

/** Encodes a PAP packet; fields longer than 255 bytes are truncated (one length octet). */
export function encodePapPacket(p: PapPacket): Uint8Array {
  if (p.kind === 'authenticate-request') {
    const id = fromUtf8(p.peerId).subarray(0, 255);
    const pw = fromUtf8(p.password).subarray(0, 255);
    return encodeControlPacket({
      code: PAP_CODE.AUTHENTICATE_REQUEST,
      identifier: p.identifier,
      data: concatBytes([Uint8Array.of(id.length), id, Uint8Array.of(pw.length), pw]),
    });
  }
  const msg = fromUtf8(p.message).subarray(0, 255);
  return encodeControlPacket({
    code: p.kind === 'authenticate-ack' ? PAP_CODE.AUTHENTICATE_ACK : PAP_CODE.AUTHENTICATE_NAK,
    identifier: p.identifier,
    data: concatBytes([Uint8Array.of(msg.length), msg]),
  });
}
