/**
 * Calls accepted (ICRP sent) but not yet connected (no ICCN): they count against capacity, per
 * tunnel against the pending limit, and each is cleared when its ICCN does not come in time —
 * otherwise bare ICRQs would hold capacity forever.
 */
import type { TimerHandle, TimerService } from '../clock';

export class PendingCalls {
  /** Local tunnel id -> local session id -> its setup deadline. */
  private readonly byTunnel = new Map<number, Map<number, TimerHandle>>();
  private count = 0;

  constructor(
    private readonly timers: TimerService,
    private readonly timeoutMs: number,
    private readonly expired: (localTunnelId: number, localSessionId: number) => void,
  ) {}

  get size(): number {
    return this.count;
  }

  onTunnel(localTunnelId: number): number {
    return this.byTunnel.get(localTunnelId)?.size ?? 0;
  }

  add(localTunnelId: number, localSessionId: number): void {
    let calls = this.byTunnel.get(localTunnelId);
    if (!calls) this.byTunnel.set(localTunnelId, (calls = new Map()));
    if (calls.has(localSessionId)) return;
    calls.set(
      localSessionId,
      this.timers.set(this.timeoutMs, () => {
        if (this.remove(localTunnelId, localSessionId)) this.expired(localTunnelId, localSessionId);
      }),
    );
    this.count++;
  }

  /** The call connected or was cleared: it is no longer pending. */
  end(localTunnelId: number, localSessionId: number): void {
    const timer = this.byTunnel.get(localTunnelId)?.get(localSessionId);
    if (this.remove(localTunnelId, localSessionId)) this.timers.clear(timer);
  }

  private remove(localTunnelId: number, localSessionId: number): boolean {
    const calls = this.byTunnel.get(localTunnelId);
    if (!calls?.delete(localSessionId)) return false;
    if (calls.size === 0) this.byTunnel.delete(localTunnelId);
    this.count--;
    return true;
  }
}
