/**
 * A fake strongSwan VICI endpoint on a unix socket, for tests: it speaks the real codec, answers
 * commands from a handler table (CMD_UNKNOWN for others), confirms registrations for known events
 * (EVENT_UNKNOWN otherwise) and only emits events to connections registered for them, as charon does.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ViciDecodeError } from '../../../edge-agent/src/vici/errors';
import { ViciFramer } from '../../../edge-agent/src/vici/framer';
import type { ViciMessage } from '../../../edge-agent/src/vici/message-codec';
import { decodePacket, encodePacket, type ViciPacket } from '../../../edge-agent/src/vici/packet-codec';

export interface FakeCommandContext {
  /** Sends an event to this connection if it registered for it (e.g. list-sa during list-sas). */
  emit(event: string, message: ViciMessage): void;
}

/** Returns the response, or `'ignore'` to never answer (timeout tests). */
export type FakeCommandHandler = (
  message: ViciMessage,
  ctx: FakeCommandContext,
) => ViciMessage | 'ignore' | Promise<ViciMessage | 'ignore'>;

export interface FakeViciServerOptions {
  readonly commands?: Readonly<Record<string, FakeCommandHandler>>;
  readonly events?: readonly string[];
  /** Write replies in pieces of this many bytes to exercise the client's framer. */
  readonly chunkSize?: number;
}

export interface FakeViciServer {
  readonly path: string;
  /** Every packet received, in order, across connections. */
  readonly received: ViciPacket[];
  /** Emits to every connection registered for the event. */
  emit(event: string, message: ViciMessage): void;
  /** Writes raw bytes to every connection (protocol-error tests). */
  sendRaw(bytes: Buffer): void;
  /** Number of open connections. */
  connectionCount(): number;
  close(): Promise<void>;
}

/** Starts the fake on a fresh temporary socket path. */
export async function startFakeViciServer(options: FakeViciServerOptions = {}): Promise<FakeViciServer> {
  const dir = mkdtempSync(join(tmpdir(), 'vici-'));
  const path = join(dir, 'charon.vici');
  const received: ViciPacket[] = [];
  const conns = new Map<Socket, Set<string>>();
  const commands = options.commands ?? {};
  const events = new Set(options.events ?? []);

  const write = (socket: Socket, packet: ViciPacket): void => {
    const bytes = encodePacket(packet);
    const size = options.chunkSize ?? bytes.length;
    for (let off = 0; off < bytes.length; off += size) socket.write(bytes.subarray(off, off + size));
  };

  const server: Server = createServer((socket) => {
    const registered = new Set<string>();
    conns.set(socket, registered);
    const framer = new ViciFramer();
    // Requests are handled strictly one after another, like charon's per-connection processing.
    let chain = Promise.resolve();
    socket.on('close', () => conns.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) => {
      const payloads = framer.push(chunk);
      if (payloads instanceof ViciDecodeError) return socket.destroy();
      for (const payload of payloads) {
        const packet = decodePacket(payload);
        if (packet instanceof ViciDecodeError) return socket.destroy();
        received.push(packet);
        chain = chain.then(() => handle(socket, registered, packet));
      }
    });
  });

  const handle = async (socket: Socket, registered: Set<string>, packet: ViciPacket): Promise<void> => {
    switch (packet.type) {
      case 'cmd-request': {
        const handler = commands[packet.command];
        if (!handler) return write(socket, { type: 'cmd-unknown' });
        const ctx: FakeCommandContext = {
          emit: (event, message) => {
            if (registered.has(event)) write(socket, { type: 'event', event, message });
          },
        };
        const response = await handler(packet.message, ctx);
        if (response === 'ignore') return new Promise<void>(() => {}); // stall this connection for good
        return write(socket, { type: 'cmd-response', message: response });
      }
      case 'event-register':
        if (!events.has(packet.event)) return write(socket, { type: 'event-unknown' });
        registered.add(packet.event);
        return write(socket, { type: 'event-confirm' });
      case 'event-unregister':
        if (!registered.delete(packet.event)) return write(socket, { type: 'event-unknown' });
        return write(socket, { type: 'event-confirm' });
      default:
        socket.destroy(); // a client never sends answers or events
    }
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });

  return {
    path,
    received,
    emit(event, message) {
      for (const [socket, registered] of conns) if (registered.has(event)) write(socket, { type: 'event', event, message });
    },
    sendRaw(bytes) {
      for (const socket of conns.keys()) socket.write(bytes);
    },
    connectionCount: () => conns.size,
    async close() {
      for (const socket of conns.keys()) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
