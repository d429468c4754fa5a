/**
 * Named errors of IP allocation. Each names its kind and code (the broker's error family,
 * ../../errors.ts); the HTTP status is chosen from the kind in http/error-handler.ts, nowhere else.
 */
import type { ErrorCode } from '../../error-codes';
import { BrokerError, type BrokerErrorKind } from '../../errors';

export class IpAllocationError extends BrokerError {
  constructor(
    kind: BrokerErrorKind,
    code: ErrorCode,
    message: string,
    readonly tenantId: string,
    options?: { cause?: unknown },
  ) {
    super(kind, code, message, undefined, options);
  }
}

/**
 * Every candidate address of every pool of the tenant is leased (or the tenant has no usable pool:
 * `poolIds` is empty). The agent maps `pool-exhausted` to a PPP failure reason.
 */
export class PoolExhaustedError extends IpAllocationError {
  constructor(
    tenantId: string,
    /** The pools that were tried, all full. */
    readonly poolIds: readonly string[],
  ) {
    super('unavailable', 'pool-exhausted', `no free address for tenant ${tenantId}`, tenantId);
  }
}

/** The user's static address cannot be given: outside every pool, or held by another session. */
export class StaticAddressUnavailableError extends IpAllocationError {
  constructor(
    tenantId: string,
    readonly username: string,
    readonly ip: string,
    readonly reason: 'not-in-pool' | 'in-use' | 'pool-not-allowed',
    detail?: string,
  ) {
    super(
      'conflict',
      'static-address-unavailable',
      reason === 'not-in-pool'
        ? `static address ${ip} of user ${username} lies in no usable range of tenant ${tenantId}'s pools`
        : reason === 'in-use'
          ? `static address ${ip} of user ${username} is held by another session`
          : `static address ${ip} of user ${username} may not be used on this agent: ${detail ?? 'its pool is not allowed'}`,
      tenantId,
    );
  }
}

/**
 * Every pool of the tenant is barred on this agent (contract/src/address-policy.ts, poolBlockedOnAgent):
 * reserved space, or a network of the agent's host.
 */
export class PoolNotAllowedError extends IpAllocationError {
  constructor(
    tenantId: string,
    readonly reasons: readonly string[],
  ) {
    super('conflict', 'pool-not-allowed', `no pool of tenant ${tenantId} may be used on this agent: ${reasons.join('; ')}`, tenantId);
  }
}
