/**
 * Test-only: two tunnel engines wired back to back through an in-memory "network" with a fake clock.
 * Timers and packets are processed in time order; a filter can drop or duplicate packets.
 */
import {
  createTunnel,
  stepTunnel,
  type TunnelAction,
  type TunnelConfig,
  type TunnelEvent,
  type TunnelState,
} from '../../../edge-agent/src/l2tp/index';

export type Side = 'lac' | 'lns';

export interface Endpoint {
  state: TunnelState;
  timers: Map<string, number>;
  /** Every non-transport action, in order. */
  events: TunnelAction[];
  /** Every datagram this side transmitted. */
  sent: Uint8Array[];
}

export interface HarnessOptions {
  lac?: Partial<TunnelConfig>;
  lns?: Partial<TunnelConfig>;
  /** One-way latency. @default 10 */
  latencyMs?: number;
  /** Return 'drop' to lose a packet, 'dup' to deliver it twice. Called with a per-direction counter. */
  filter?: (from: Side, bytes: Uint8Array, index: number) => 'pass' | 'drop' | 'dup';
  /** LNS answers session-requested with accept-session. @default true */
  autoAccept?: boolean;
}

let seed = 1;
/** Deterministic "random" octets. */
export function counterRandom(): (n: number) => Uint8Array {
  return (n) => Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff);
}

export class Harness {
  now = 0;
  readonly ends: Record<Side, Endpoint>;
  private inFlight: Array<{ at: number; to: Side; bytes: Uint8Array; order: number }> = [];
  private order = 0;
  private counts: Record<Side, number> = { lac: 0, lns: 0 };

  constructor(private readonly opts: HarnessOptions = {}) {
    const base = { hostName: 'x', random: counterRandom() };
    this.ends = {
      lac: this.endpoint(createTunnel({ role: 'lac', localTunnelId: 100, ...base, hostName: 'lac', ...opts.lac })),
      lns: this.endpoint(createTunnel({ role: 'lns', localTunnelId: 200, ...base, hostName: 'lns', ...opts.lns })),
    };
  }

  private endpoint(state: TunnelState): Endpoint {
    return { state, timers: new Map(), events: [], sent: [] };
  }

  /** Feed one event to a side and carry out its actions. */
  feed(side: Side, event: TunnelEvent): TunnelAction[] {
    const end = this.ends[side];
    const { state, actions } = stepTunnel(end.state, event);
    end.state = state;
    for (const a of actions) {
      if (a.kind === 'transmit') {
        end.sent.push(a.bytes);
        const verdict = this.opts.filter?.(side, a.bytes, this.counts[side]++) ?? 'pass';
        const to: Side = side === 'lac' ? 'lns' : 'lac';
        const at = this.now + (this.opts.latencyMs ?? 10);
        if (verdict !== 'drop') this.inFlight.push({ at, to, bytes: a.bytes, order: this.order++ });
        if (verdict === 'dup') this.inFlight.push({ at: at + 1, to, bytes: a.bytes, order: this.order++ });
      } else if (a.kind === 'set-timer') end.timers.set(a.name, this.now + a.ms);
      else if (a.kind === 'cancel-timer') end.timers.delete(a.name);
      else {
        end.events.push(a);
        if (a.kind === 'session-requested' && side === 'lns' && this.opts.autoAccept !== false) {
          this.feed('lns', { kind: 'accept-session', localSessionId: a.localSessionId });
        }
      }
    }
    return actions;
  }

  /** Run packets and timers in time order until nothing is due before `until` (absolute ms). */
  runUntil(until: number): void {
    for (;;) {
      let next: { at: number; run: () => void } | undefined;
      for (const p of this.inFlight) {
        if (!next || p.at < next.at) next = { at: p.at, run: () => this.deliver(p) };
      }
      for (const side of ['lac', 'lns'] as const) {
        for (const [name, at] of this.ends[side].timers) {
          if (!next || at < next.at) {
            next = {
              at,
              run: () => {
                this.ends[side].timers.delete(name);
                this.feed(side, { kind: 'timer', name: name as 'retransmit' | 'ack' | 'hello' });
              },
            };
          }
        }
      }
      if (!next || next.at > until) break;
      this.now = next.at;
      next.run();
    }
    this.now = until;
  }

  run(ms: number): void {
    this.runUntil(this.now + ms);
  }

  private deliver(p: { to: Side; bytes: Uint8Array; order: number }): void {
    this.inFlight = this.inFlight.filter((x) => x.order !== p.order);
    this.feed(p.to, { kind: 'received', bytes: p.bytes });
  }

  kinds(side: Side): string[] {
    return this.ends[side].events.filter((e) => e.kind !== 'warning').map((e) => e.kind);
  }
}
