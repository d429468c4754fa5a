/**
 * The agent's live sessions, found by their L2TP call (for every data packet) or by the broker's
 * session id (for commands and reconciliation).
 */
interface CallIds {
  readonly localTunnelId: number;
  readonly localSessionId: number;
  readonly brokerSessionId: string | undefined;
}

/** Tunnel and session ids are 16 bits each (RFC 2661 §3.1): one number keys a call. */
const callKey = (localTunnelId: number, localSessionId: number) => localTunnelId * 0x10000 + localSessionId;

export class SessionTable<S extends CallIds> {
  private readonly byCall = new Map<number, S>();

  get size(): number {
    return this.byCall.size;
  }

  get(localTunnelId: number, localSessionId: number): S | undefined {
    return this.byCall.get(callKey(localTunnelId, localSessionId));
  }

  add(session: S): void {
    this.byCall.set(callKey(session.localTunnelId, session.localSessionId), session);
  }

  /** Removes `session` (not a newer session on the same call). */
  remove(session: S): void {
    const key = callKey(session.localTunnelId, session.localSessionId);
    if (this.byCall.get(key) === session) this.byCall.delete(key);
  }

  /** A copy: callers may end sessions while they walk it. */
  all(): S[] {
    return [...this.byCall.values()];
  }

  values(): IterableIterator<S> {
    return this.byCall.values();
  }

  /** Commands are rare: a scan is cheaper than keeping a second index in step. */
  byBrokerId(brokerSessionId: string): S | undefined {
    for (const s of this.byCall.values()) if (s.brokerSessionId === brokerSessionId) return s;
    return undefined;
  }

  brokerIds(): string[] {
    const ids: string[] = [];
    for (const s of this.byCall.values()) if (s.brokerSessionId) ids.push(s.brokerSessionId);
    return ids;
  }

  anyOnTunnel(localTunnelId: number): boolean {
    for (const s of this.byCall.values()) if (s.localTunnelId === localTunnelId) return true;
    return false;
  }
}
