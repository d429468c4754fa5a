/**
 * ScalingProvider for one machine: "agents" are edge-agent processes, each in its own network
 * namespace, started and stopped through an injected launcher (scripts/lib/netns-agent-launcher.ts
 * is the real one), so this file does no I/O itself and is tested with a fake launcher.
 *
 * Semantics follow the AWS provider: `setDesiredCapacity` only ever starts agents (like an Auto
 * Scaling group growing); lowering it stops nothing, because agents leave only through `terminate`
 * after the policy drained them (TerminateInstanceInAutoScalingGroup with decrement in AWS).
 */
import { ScalingProviderError, type ScalingProvider } from './provider';

/** One running agent process. */
export interface LocalAgentProcess {
  readonly agentId: string;
  /** Where clients reach its L2TP listener (the namespace's veth address). */
  readonly address: string;
  /** SIGTERM (the agent ends its sessions with agent-shutdown), SIGKILL after a grace; cleans up. */
  stop(): Promise<void>;
}

export interface LocalAgentLauncher {
  /** Enrols and starts one agent; resolves once it has registered with the broker. */
  launch(name: string): Promise<LocalAgentProcess>;
}

export interface LocalScalingProviderOptions {
  readonly launcher: LocalAgentLauncher;
  /** Agent names are `<prefix>-<n>`. @default 'local-agent' */
  readonly namePrefix?: string;
  /** Never run more than this many agents, whatever is asked. @default 16 */
  readonly hardLimit?: number;
}

export class LocalScalingProvider implements ScalingProvider {
  private readonly running = new Map<string, LocalAgentProcess>();
  private readonly terminated = new Set<string>();
  private launched = 0;
  /** Calls run one at a time, so concurrent evaluations cannot overshoot the desired count. */
  private queue: Promise<unknown> = Promise.resolve();
  desired = 0;

  constructor(private readonly options: LocalScalingProviderOptions) {}

  /** The agents this provider runs now. */
  agents(): LocalAgentProcess[] {
    return [...this.running.values()];
  }

  setDesiredCapacity(desired: number): Promise<void> {
    return this.serial(async () => {
      const limit = this.options.hardLimit ?? 16;
      if (!Number.isInteger(desired) || desired < 0) throw new ScalingProviderError(`desired capacity must be an integer >= 0, got ${desired}`);
      this.desired = desired;
      const missing = Math.min(desired, limit) - this.running.size;
      if (missing <= 0) return;
      await this.launchMany(missing);
    });
  }

  /**
   * The local instance refresh: starts one new agent for each of these (all together, before any
   * old one is touched, like the AWS refresh's launch-before-terminate) and returns the new ones
   * once registered. The old agents keep running: they leave like any other, drained and then
   * released by an evaluation (rollingReplace does the drain). The desired count grows by the
   * replacements and shrinks again as `terminate` stops the old ones.
   */
  launchReplacements(agentIds: readonly string[]): Promise<LocalAgentProcess[]> {
    return this.serial(async () => {
      const unknown = agentIds.filter((id) => !this.running.has(id));
      if (unknown.length > 0) throw new ScalingProviderError(`cannot replace agents this provider does not run: ${unknown.join(', ')}`, unknown[0]);
      if (new Set(agentIds).size !== agentIds.length) throw new ScalingProviderError(`an agent is listed twice: ${agentIds.join(', ')}`);
      const limit = this.options.hardLimit ?? 16;
      if (this.running.size + agentIds.length > limit) {
        throw new ScalingProviderError(`replacing ${agentIds.length} agent(s) next to ${this.running.size} running would pass the limit of ${limit}`);
      }
      const started = await this.launchMany(agentIds.length);
      this.desired = this.running.size;
      return started;
    });
  }

  /** Starts `count` agents together (boot time dominates); a failed launch fails the call, the started ones stay. */
  private async launchMany(count: number): Promise<LocalAgentProcess[]> {
    const names = Array.from({ length: count }, () => `${this.options.namePrefix ?? 'local-agent'}-${++this.launched}`);
    const results = await Promise.allSettled(names.map((name) => this.options.launcher.launch(name)));
    const started: LocalAgentProcess[] = [];
    for (const r of results) {
      if (r.status !== 'fulfilled') continue;
      this.running.set(r.value.agentId, r.value);
      started.push(r.value);
    }
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length > 0) {
      const first = failed[0]!.reason as unknown;
      const why = first instanceof Error ? first.message : String(first);
      throw new ScalingProviderError(`${failed.length} of ${count} agent launches failed; the first: ${why}`, undefined, { cause: first });
    }
    return started;
  }

  terminate(agentId: string): Promise<void> {
    return this.serial(async () => {
      const agent = this.running.get(agentId);
      if (!agent) {
        if (this.terminated.has(agentId)) return; // idempotent, like the AWS provider
        throw new ScalingProviderError(`agent ${agentId} is not run by this provider`, agentId);
      }
      try {
        await agent.stop();
      } catch (error) {
        throw new ScalingProviderError(`stopping agent ${agentId} failed`, agentId, { cause: error });
      }
      this.running.delete(agentId);
      this.terminated.add(agentId);
      if (this.desired > this.running.size) this.desired = this.running.size;
    });
  }

  /** Stops every agent (end of a test or of the local stack). */
  close(): Promise<void> {
    return this.serial(async () => {
      const all = [...this.running.values()];
      this.running.clear();
      await Promise.allSettled(all.map((a) => a.stop()));
      for (const a of all) this.terminated.add(a.agentId);
    });
  }

  private serial<T>(run: () => Promise<T>): Promise<T> {
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
