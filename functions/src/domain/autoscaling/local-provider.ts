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
      const names = Array.from({ length: missing }, () => `${this.options.namePrefix ?? 'local-agent'}-${++this.launched}`);
      // Started together (boot time dominates); a failed launch fails the call, the started ones stay.
      const results = await Promise.allSettled(names.map((name) => this.options.launcher.launch(name)));
      for (const r of results) if (r.status === 'fulfilled') this.running.set(r.value.agentId, r.value);
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length > 0) {
        const first = failed[0]!.reason as unknown;
        const why = first instanceof Error ? first.message : String(first);
        throw new ScalingProviderError(`${failed.length} of ${missing} agent launches failed; the first: ${why}`, undefined, { cause: first });
      }
    });
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
