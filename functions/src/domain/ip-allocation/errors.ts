/** Named errors of IP allocation; the HTTP layer maps the family to one status. */
export class IpAllocationError extends Error {
  constructor(
    message: string,
    readonly tenantId: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Every candidate address of every pool of the tenant is leased. */
export class PoolExhaustedError extends IpAllocationError {
  constructor(
    tenantId: string,
    readonly poolIds: readonly string[],
  ) {
    super(
      poolIds.length === 0
        ? `tenant ${tenantId} has no address pool`
        : `no free address for tenant ${tenantId}: pool${poolIds.length > 1 ? 's' : ''} ${poolIds.join(', ')} exhausted`,
      tenantId,
    );
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
    super(`no pool of tenant ${tenantId} may be used on this agent: ${reasons.join('; ')}`, tenantId);
  }
}
