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
    readonly reason: 'not-in-pool' | 'in-use',
  ) {
    super(
      reason === 'not-in-pool'
        ? `static address ${ip} of user ${username} lies in no usable range of tenant ${tenantId}'s pools`
        : `static address ${ip} of user ${username} is held by another session`,
      tenantId,
    );
  }
}
