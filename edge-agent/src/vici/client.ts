/**
 * A thin VICI client over strongSwan's unix socket (default /var/run/charon.vici).
 *
 * README "Commands": there is no sequence number, so only one command may be active per connection;
 * (de-)registrations are answered in order as well. The client therefore sends one operation at a
 * time from a FIFO queue and matches each answer to the operation at its head. EVENT packets may
 * arrive at any time (also during a command, which is how `list-sas` streams `list-sa` events) and go
 * to the registered handlers. A timeout closes the connection: a late answer could no longer be
 * matched to the right operation. The caller reconnects.
 */
import { createConnection, type Socket } from 'node:net';
import { systemTimers, type TimerHandle, type TimerService } from '../clock';
import {
  ViciClosedError,
  ViciConnectError,
  ViciDecodeError,
  ViciError,
  ViciProtocolError,
  ViciTimeoutError,
  ViciUnknownCommandError,
  ViciUnknownEventError,
} from './errors';
import { ViciFramer } from './framer';
import type { ViciMessage } from './message-codec';
import { decodePacket, encodePacket, type ViciPacket } from './packet-codec';

export type ViciEventHandler = (message: ViciMessage, event: string) => void;

/** What the agent needs from a VICI connection; the real client and test fakes implement it. */
export interface ViciSession {
  /** Sends a command and resolves with its response message (success/errmsg are NOT checked here). */
  request(command: string, message?: ViciMessage, options?: { timeoutMs?: number }): Promise<ViciMessage>;
  /** Registers for the event while the command runs; `onEvent` sees every streamed event before the response resolves. */
  streamedRequest(
    command: string,
    message: ViciMessage,
    event: string,
    onEvent: ViciEventHandler,
    options?: { timeoutMs?: number },
  ): Promise<ViciMessage>;
  /** Registers a handler; resolves once strongSwan confirmed. The returned function unregisters it. */
  registerEvent(event: string, handler: ViciEventHandler): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Minimal logger shape (pino's Logger satisfies it). */
export interface ViciLogger {
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface ViciClientOptions {
  /** Per operation, from when it is sent. Default 10 s. */
  readonly timeoutMs?: number;
  /** Default 5 s. */
  readonly connectTimeoutMs?: number;
  readonly logger?: ViciLogger;
  /** Timers for the connect and operation deadlines. @default systemTimers() */
  readonly timers?: TimerService;
}

interface Operation {
  readonly bytes: Buffer;
  readonly label: string;
  readonly answers: 'command' | 'registration';
  readonly timeoutMs: number;
  readonly resolve: (packet: ViciPacket) => void;
  readonly reject: (error: Error) => void;
}

interface Registration {
  readonly handlers: Set<ViciEventHandler>;
  readonly ready: Promise<void>;
}

const noopLogger: ViciLogger = { warn: () => {}, debug: () => {} };

/** Opens the socket. Rejects with ViciConnectError (code ENOENT, EACCES, ECONNREFUSED, ETIMEDOUT, ...). */
export async function connectVici(socketPath: string, options: ViciClientOptions = {}): Promise<ViciClient> {
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  const timers = options.timers ?? systemTimers();
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = createConnection({ path: socketPath });
    const timer = timers.set(connectTimeoutMs, () => {
      s.destroy();
      reject(new ViciConnectError(socketPath, 'ETIMEDOUT', `VICI socket ${socketPath}: no connection within ${connectTimeoutMs} ms`));
    });
    s.once('connect', () => {
      timers.clear(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      timers.clear(timer);
      reject(connectError(socketPath, err));
    });
  });
  return new ViciClient(socket, { ...options, timers });
}

function connectError(path: string, err: NodeJS.ErrnoException): ViciConnectError {
  const code = err.code ?? 'UNKNOWN';
  const why: Record<string, string> = {
    ENOENT: 'does not exist (is charon running with the vici plugin loaded?)',
    EACCES: 'is not accessible: permission denied (run the agent as root or give it the socket group)',
    EPERM: 'is not accessible: operation not permitted',
    ECONNREFUSED: 'refused the connection (nothing listening: stale socket file?)',
    ENOTSOCK: 'is not a socket',
  };
  return new ViciConnectError(path, code, `VICI socket ${path} ${why[code] ?? `cannot be opened: ${err.message}`}`, { cause: err });
}

export class ViciClient implements ViciSession {
  private readonly framer = new ViciFramer();
  private readonly queue: Operation[] = [];
  private active: { op: Operation; timer: TimerHandle } | undefined;
  private readonly registrations = new Map<string, Registration>();
  private closedWith: Error | undefined;
  private readonly timeoutMs: number;
  private readonly timers: TimerService;
  private readonly log: ViciLogger;
  private resolveClosed!: (reason: Error | undefined) => void;
  /** Resolves when the connection has ended: undefined after `close()`, otherwise the reason. */
  readonly closed: Promise<Error | undefined> = new Promise((resolve) => (this.resolveClosed = resolve));

  constructor(private readonly socket: Socket, options: ViciClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.timers = options.timers ?? systemTimers();
    this.log = options.logger ?? noopLogger;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.shutdown(new ViciClosedError(`VICI socket error: ${err.message}`, { cause: err })));
    socket.on('close', () => this.shutdown(new ViciClosedError('VICI connection closed by the peer')));
  }

  async request(command: string, message: ViciMessage = {}, options: { timeoutMs?: number } = {}): Promise<ViciMessage> {
    const answer = await this.enqueue({ type: 'cmd-request', command, message }, `request ${command}`, 'command', options.timeoutMs);
    if (answer.type === 'cmd-unknown') throw new ViciUnknownCommandError(command);
    if (answer.type !== 'cmd-response') throw new ViciError(`unexpected ${answer.type} for ${command}`);
    return answer.message;
  }

  async streamedRequest(
    command: string,
    message: ViciMessage,
    event: string,
    onEvent: ViciEventHandler,
    options: { timeoutMs?: number } = {},
  ): Promise<ViciMessage> {
    const unregister = await this.registerEvent(event, onEvent);
    try {
      return await this.request(command, message, options);
    } finally {
      if (!this.closedWith) await unregister().catch((err: unknown) => this.log.debug({ err, event }, 'vici unregister after stream failed'));
    }
  }

  async registerEvent(event: string, handler: ViciEventHandler): Promise<() => Promise<void>> {
    let reg = this.registrations.get(event);
    if (reg === undefined) {
      const ready = this.enqueue({ type: 'event-register', event }, `register ${event}`, 'registration').then((answer) => {
        if (answer.type !== 'event-confirm') throw new ViciUnknownEventError(event);
      });
      reg = { handlers: new Set(), ready };
      this.registrations.set(event, reg);
      ready.catch(() => {
        if (this.registrations.get(event) === reg) this.registrations.delete(event);
      });
    }
    const wrapped: ViciEventHandler = (m, e) => handler(m, e); // distinct identity per registration
    reg.handlers.add(wrapped);
    try {
      await reg.ready;
    } catch (err) {
      reg.handlers.delete(wrapped);
      throw err;
    }
    const registration = reg;
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      registration.handlers.delete(wrapped);
      if (registration.handlers.size > 0 || this.registrations.get(event) !== registration) return;
      this.registrations.delete(event);
      const answer = await this.enqueue({ type: 'event-unregister', event }, `unregister ${event}`, 'registration');
      if (answer.type !== 'event-confirm') throw new ViciUnknownEventError(event);
    };
  }

  async close(): Promise<void> {
    if (this.closedWith) return;
    this.shutdown(new ViciClosedError('VICI connection closed by the client'), true);
    await new Promise<void>((resolve) => {
      if (this.socket.destroyed) return resolve();
      // A peer that never finishes its side must not keep close() waiting.
      const timer = this.timers.set(1_000, () => this.socket.destroy());
      this.socket.once('close', () => {
        this.timers.clear(timer);
        resolve();
      });
      this.socket.end();
    });
  }

  private enqueue(packet: ViciPacket, label: string, answers: Operation['answers'], timeoutMs?: number): Promise<ViciPacket> {
    return new Promise((resolve, reject) => {
      if (this.closedWith) return reject(new ViciClosedError(`${label}: connection is closed`, { cause: this.closedWith }));
      let bytes: Buffer;
      try {
        bytes = encodePacket(packet); // encode now so a bad message fails its own caller only
      } catch (err) {
        return reject(err as Error);
      }
      this.queue.push({ bytes, label, answers, timeoutMs: timeoutMs ?? this.timeoutMs, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.active || this.closedWith) return;
    const op = this.queue.shift();
    if (!op) return;
    const timer = this.timers.set(op.timeoutMs, () => {
      this.log.warn({ operation: op.label, timeoutMs: op.timeoutMs }, 'vici operation timed out; closing connection');
      this.active = undefined;
      op.reject(new ViciTimeoutError(op.label, op.timeoutMs));
      this.shutdown(new ViciClosedError(`closed after ${op.label} timed out`));
    });
    this.active = { op, timer };
    this.socket.write(op.bytes);
  }

  private onData(chunk: Buffer): void {
    const payloads = this.framer.push(chunk);
    if (payloads instanceof ViciDecodeError) return this.protocolError(payloads);
    for (const payload of payloads) {
      if (this.closedWith) return;
      const packet = decodePacket(payload);
      if (packet instanceof ViciDecodeError) return this.protocolError(packet);
      this.onPacket(packet);
    }
  }

  private onPacket(packet: ViciPacket): void {
    if (packet.type === 'event') {
      const reg = this.registrations.get(packet.event);
      if (!reg || reg.handlers.size === 0) {
        this.log.debug({ event: packet.event }, 'vici event without handler');
        return;
      }
      for (const handler of [...reg.handlers]) {
        try {
          handler(packet.message, packet.event);
        } catch (err) {
          this.log.warn({ err, event: packet.event }, 'vici event handler threw');
        }
      }
      return;
    }
    const kind = packet.type === 'cmd-response' || packet.type === 'cmd-unknown' ? 'command' : 'registration';
    const isAnswer = ['cmd-response', 'cmd-unknown', 'event-confirm', 'event-unknown'].includes(packet.type);
    const active = this.active;
    if (!isAnswer || !active || active.op.answers !== kind) {
      return this.protocolError(new ViciDecodeError('unknown-packet-type', `unexpected ${packet.type} packet`, 0));
    }
    this.timers.clear(active.timer);
    this.active = undefined;
    active.op.resolve(packet);
    this.pump();
  }

  private protocolError(error: ViciDecodeError): void {
    this.log.warn({ error: error.toString() }, 'vici protocol error; closing connection');
    this.shutdown(new ViciProtocolError(error));
  }

  /** Fails everything pending exactly once and tears the socket down. */
  private shutdown(reason: Error, byClient = false): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    if (this.active) {
      this.timers.clear(this.active.timer);
      this.active.op.reject(reason);
      this.active = undefined;
    }
    for (const op of this.queue.splice(0)) op.reject(new ViciClosedError(`${op.label}: connection closed`, { cause: reason }));
    this.registrations.clear();
    if (!byClient) this.socket.destroy();
    this.resolveClosed(byClient ? undefined : reason);
  }
}
