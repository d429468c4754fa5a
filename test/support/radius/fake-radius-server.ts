/**
 * A RADIUS server on a real loopback UDP socket, built on our own codec, for the client's tests
 * (the FreeRADIUS tests use the real thing). `answer` decides per request: a reply (attributes and
 * how to sign it), raw bytes, or undefined to stay silent.
 */
import { createSocket, type Socket } from 'node:dgram';
import { checkRequest, encodeResponse, isRadiusCodecError, type RadiusAttribute, type RadiusPacket } from '../../../functions/src/radius';

export interface FakeReply {
  readonly code: number;
  readonly attributes?: readonly RadiusAttribute[];
  /** Default true. */
  readonly messageAuthenticator?: boolean;
  /** Sign with this secret instead of the server's (a forger's answer). */
  readonly secret?: Uint8Array;
  /** Answer with this identifier instead of the request's. */
  readonly identifier?: number;
}

export interface FakeRadiusServer {
  readonly port: number;
  /** Every datagram received, raw, in order. */
  readonly received: Buffer[];
  close(): Promise<void>;
}

export async function startFakeRadiusServer(
  secret: Uint8Array,
  answer: (request: RadiusPacket, raw: Buffer) => FakeReply | Buffer | undefined,
  address = '127.0.0.1',
): Promise<FakeRadiusServer> {
  const socket: Socket = createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (msg, rinfo) => {
    received.push(Buffer.from(msg));
    const request = checkRequest(msg, secret);
    if (isRadiusCodecError(request)) return; // a real server drops what does not verify
    const reply = answer(request, msg);
    if (reply === undefined) return;
    const bytes = Buffer.isBuffer(reply)
      ? reply
      : encodeResponse({
          code: reply.code,
          identifier: reply.identifier ?? request.identifier,
          requestAuthenticator: request.authenticator,
          secret: reply.secret ?? secret,
          attributes: reply.attributes ?? [],
          messageAuthenticator: reply.messageAuthenticator ?? true,
        });
    if (!isRadiusCodecError(bytes)) socket.send(bytes, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  return {
    port: socket.address().port,
    received,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
