/**
 * Where agents come from. The policy only says "this many" and "this one may go"; a provider
 * turns that into VMs (AWS Auto Scaling) or, in the local stack, agent processes in namespaces.
 */

export interface ScalingProvider {
  /** Total agents the provider should keep running (serving + still draining). Idempotent. */
  setDesiredCapacity(desired: number): Promise<void>;
  /** Stops this agent's machine for good (its sessions are already ended or drained). */
  terminate(agentId: string): Promise<void>;
}

/** Provider failures (API refused, no instance for an agent...); `cause` keeps the original. */
export class ScalingProviderError extends Error {
  constructor(message: string, readonly agentId?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Records calls; for tests and dry runs. */
export class RecordingScalingProvider implements ScalingProvider {
  readonly calls: Array<{ op: 'set-desired-capacity'; desired: number } | { op: 'terminate'; agentId: string }> = [];
  async setDesiredCapacity(desired: number): Promise<void> {
    this.calls.push({ op: 'set-desired-capacity', desired });
  }
  async terminate(agentId: string): Promise<void> {
    this.calls.push({ op: 'terminate', agentId });
  }
}
