/**
 * Test-only: runs a PppServerSession and a PppClientSession against each other in memory with a
 * fake clock. Frames go through the real frame codec; timers are a per-side map of due times.
 */
import {
  createPppClientSession,
  createPppServerSession,
  decodeFrame,
  encodeFrame,
  isPppDecodeError,
  type PppAction,
  type PppClientConfig,
  type PppClientState,
  type PppServerConfig,
  type PppServerEvent,
  type PppServerState,
  type PppTimer,
} from '../../../edge-agent/src/ppp';

/** Deterministic "random" bytes: a simple counter-seeded LCG, different per seed. */
export function fakeRandom(seed: number): (n: number) => Uint8Array {
  let x = seed >>> 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      out[i] = x >>> 24;
    }
    return out;
  };
}

export type Side = 'server' | 'client';
export interface Logged {
  readonly at: number;
  readonly side: Side;
  readonly action: PppAction;
}

export interface HarnessOptions {
  readonly server: PppServerConfig;
  readonly client: PppClientConfig;
  /** Answers verify-credentials (may be async, e.g. real ppp-auth verification). */
  readonly verify: (a: Extract<PppAction, { kind: 'verify-credentials' }>) => Promise<Extract<PppServerEvent, { kind: 'auth-result' }>>;
  readonly address?: { address: string; dns: string[]; gateway: string } | { refused: 'pool-exhausted' };
  /** Return true to drop a frame in flight. */
  readonly drop?: (from: Side, protocol: number, payload: Uint8Array) => boolean;
}

export class LinkHarness {
  now = 0;
  readonly log: Logged[] = [];
  server: PppServerState;
  client: PppClientState;
  private readonly serverEngine;
  private readonly clientEngine;
  private readonly inFlight: { to: Side; bytes: Uint8Array }[] = [];
  private readonly timers = new Map<string, number>();
  private readonly pendingServerEvents: PppServerEvent[] = [];

  constructor(private readonly opts: HarnessOptions) {
    this.serverEngine = createPppServerSession(opts.server);
    this.clientEngine = createPppClientSession(opts.client);
    const c = this.clientEngine.start();
    this.client = c.state;
    const s = this.serverEngine.start();
    this.server = s.state;
    this.apply('client', c.actions);
    this.apply('server', s.actions);
  }

  actions(side: Side, kind?: PppAction['kind']): PppAction[] {
    return this.log.filter((l) => l.side === side && (kind === undefined || l.action.kind === kind)).map((l) => l.action);
  }

  /** Server-side event from the test (e.g. an admin close). */
  serverEvent(e: PppServerEvent): void {
    const r = this.serverEngine.step(this.server, e);
    this.server = r.state;
    this.apply('server', r.actions);
  }

  clientEvent(e: Parameters<typeof this.clientEngine.step>[1]): void {
    const r = this.clientEngine.step(this.client, e);
    this.client = r.state;
    this.apply('client', r.actions);
  }

  private apply(side: Side, actions: readonly PppAction[]): void {
    for (const action of actions) {
      this.log.push({ at: this.now, side, action });
      switch (action.kind) {
        case 'send-frame':
          if (this.opts.drop?.(side, action.protocol, action.payload)) break;
          this.inFlight.push({ to: side === 'server' ? 'client' : 'server', bytes: encodeFrame(action.protocol, action.payload) });
          break;
        case 'set-timer':
          this.timers.set(`${side}:${action.timer}`, this.now + action.ms);
          break;
        case 'clear-timer':
          this.timers.delete(`${side}:${action.timer}`);
          break;
        case 'verify-credentials':
          void this.opts.verify(action).then((e) => this.pendingServerEvents.push(e));
          break;
        case 'request-address': {
          const a = this.opts.address ?? { address: '10.8.0.10', dns: ['10.8.0.1', '10.8.0.2'], gateway: '10.8.0.1' };
          this.pendingServerEvents.push('refused' in a ? { kind: 'address-refused', reason: a.refused } : { kind: 'address-assigned', ...a });
          break;
        }
        default:
          break;
      }
    }
  }

  private deliver(to: Side, bytes: Uint8Array): void {
    const f = decodeFrame(bytes);
    if (isPppDecodeError(f)) throw f;
    const e = { kind: 'frame' as const, protocol: f.protocol, payload: f.payload };
    if (to === 'server') this.serverEvent(e);
    else this.clientEvent(e);
  }

  /** Runs until both sides are quiet and `until` holds, or the clock passes `maxMs`. */
  async run(until: () => boolean = () => false, maxMs = 600_000): Promise<void> {
    for (let guard = 0; guard < 100_000; guard++) {
      if (until()) return;
      const f = this.inFlight.shift();
      if (f) {
        this.deliver(f.to, f.bytes);
        continue;
      }
      await new Promise((r) => setImmediate(r)); // let async verification settle
      const e = this.pendingServerEvents.shift();
      if (e) {
        this.serverEvent(e);
        continue;
      }
      let next: [string, number] | undefined;
      for (const t of this.timers) if (!next || t[1] < next[1]) next = t;
      if (!next || next[1] > maxMs) return;
      this.timers.delete(next[0]);
      this.now = next[1];
      const [side, timer] = next[0].split(':') as [Side, PppTimer];
      if (side === 'server') this.serverEvent({ kind: 'timer', timer });
      else this.clientEvent({ kind: 'timer', timer });
    }
    throw new Error('harness did not settle');
  }
}
