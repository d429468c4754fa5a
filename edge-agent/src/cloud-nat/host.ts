/**
 * Cloud 1:1 NAT mode, the I/O part: reads the host's addresses and default route with iproute2
 * and carries out the steps plan.ts builds with iproute2 and iptables, through execFile (no
 * shell). A `CommandRunner` is injected so tests check the exact commands without root.
 */
import { LinkConfigError } from '../io/errors';
import { execFileRunner, type CommandRunner } from '../io/link-config';
import {
  ALREADY_EXISTS,
  ALREADY_MISSING,
  CLOUD_NAT_LINK,
  decideCloudNat,
  decideFromInput,
  parseAddresses,
  parseDefaultRoute,
  setUpSteps,
  tearDownSteps,
  type CloudNatDecision,
  type CloudNatInput,
  type CloudNatPlan,
  type HostFacts,
  type HostStep,
} from './plan';

export interface CloudNatHost {
  /** IPv4 addresses per interface and the default route. */
  inspect(): Promise<HostFacts>;
  /** Dummy link with the public address, DNAT/SNAT chains and their jumps. Idempotent. */
  apply(plan: CloudNatPlan): Promise<void>;
  /** Removes all of it; missing pieces are fine. */
  remove(): Promise<void>;
}

export interface CloudNatHostOptions {
  readonly runner?: CommandRunner;
  /** iptables program: `iptables` (the system's choice, nft or legacy back end) or e.g. `iptables-legacy`. */
  readonly iptables?: string;
  readonly ip?: string;
}

export function createCloudNatHost(options: CloudNatHostOptions = {}): CloudNatHost {
  const run = options.runner ?? execFileRunner();
  const programs = { ip: options.ip ?? 'ip', iptables: options.iptables ?? 'iptables' };

  const tolerated = (error: unknown, pattern: RegExp) => error instanceof LinkConfigError && pattern.test(error.stderr);

  async function carryOut(step: HostStep): Promise<void> {
    const file = programs[step.tool];
    switch (step.kind) {
      case 'run':
        try {
          await run(file, step.args);
        } catch (error) {
          if (step.tolerate === 'exists' && tolerated(error, ALREADY_EXISTS)) return;
          if (step.tolerate === 'missing' && tolerated(error, ALREADY_MISSING)) return;
          throw error;
        }
        return;
      case 'ensure':
        try {
          await run(file, step.check);
        } catch {
          await run(file, step.add);
        }
        return;
      case 'drain':
        for (let i = 0; i < step.max; i++) {
          try {
            await run(file, step.args);
          } catch (error) {
            if (tolerated(error, ALREADY_MISSING)) return;
            throw error;
          }
        }
        return;
    }
  }

  return {
    async inspect() {
      const [addresses, routes] = await Promise.all([
        run(programs.ip, ['-j', '-4', 'address', 'show']),
        run(programs.ip, ['-j', '-4', 'route', 'show', 'default']),
      ]);
      const defaultRoute = parseDefaultRoute(routes);
      return { addresses: parseAddresses(addresses), ...(defaultRoute ? { defaultRoute } : {}) };
    },
    async apply(plan) {
      for (const step of setUpSteps(plan)) await carryOut(step);
    },
    async remove() {
      // Keep going after a failure so one stuck piece does not leave the rest behind.
      let first: unknown;
      for (const step of tearDownSteps()) {
        await carryOut(step).catch((error: unknown) => (first ??= error));
      }
      if (first) throw first;
    },
  };
}

/** CLOUD_NAT=on and the host cannot run it, or a set-up command failed. */
export class CloudNatError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CloudNatError';
  }
}

/** Minimal logger (pino's Logger satisfies it). */
export interface CloudNatLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/**
 * At agent start: inspect the host, decide, and set the mode up when it applies. Resolves with
 * the plan (the agent then binds L2TP to the public address and gives charon `local_addrs`), or
 * undefined when the mode is off. A failed set-up is removed again before the error is thrown.
 */
export async function enableCloudNat(input: CloudNatInput, host: CloudNatHost, log: CloudNatLogger): Promise<CloudNatPlan | undefined> {
  const early = decideFromInput(input);
  let facts: HostFacts | undefined;
  let decision: CloudNatDecision;
  // CLOUD_NAT=off also looks, to clear what a crashed run in another mode left behind.
  if (early === undefined || input.mode === 'off') {
    try {
      facts = await host.inspect();
    } catch (error) {
      if (input.mode === 'on') throw new CloudNatError(`CLOUD_NAT=on: cannot read this host's addresses: ${(error as Error).message}`, { cause: error });
      if (early === undefined) decision = { enabled: false, reason: `cannot read this host's addresses: ${(error as Error).message}` };
    }
  }
  decision ??= early ?? decideCloudNat(input, facts ?? { addresses: [] });
  if (!decision.enabled) {
    if ('error' in decision) throw new CloudNatError(decision.error);
    log.info({ cloudNat: 'off', reason: decision.reason }, `cloud NAT mode off: ${decision.reason}`);
    if (facts?.addresses.some((a) => a.ifname === CLOUD_NAT_LINK)) {
      await host.remove().then(
        () => log.info({ cloudNat: 'removed' }, `cloud NAT mode off: removed ${CLOUD_NAT_LINK} and the NAT rules an earlier run left`),
        (error: unknown) => log.warn({ err: (error as Error).message }, `cloud NAT mode off: could not remove what an earlier run left`),
      );
    }
    return undefined;
  }
  const { plan } = decision;
  try {
    await host.apply(plan);
  } catch (error) {
    await host.remove().catch(() => undefined);
    throw new CloudNatError(`cloud NAT set-up failed: ${(error as Error).message}`, { cause: error });
  }
  log.info(
    { cloudNat: 'on', publicAddress: plan.publicAddress, privateAddress: plan.privateAddress, interface: plan.privateInterface, link: CLOUD_NAT_LINK },
    `cloud NAT mode on: ${plan.publicAddress} is local on ${CLOUD_NAT_LINK}; IKE, NAT-T and ESP to ${plan.privateAddress} are forwarded to it`,
  );
  return plan;
}
