/**
 * User administration: credentials are derived here and never leave the broker. Names are stored
 * in canonical form (ppp-auth/canonical-name.ts), so `alice` and `ALICE` are one user. Users stored
 * before that keep their name: every lookup tries the canonical form, then the name as given.
 */
import { AlreadyExistsError } from './store-errors';
import { BrokerError, ConflictError, NotFoundError, ValidationError } from '../errors';
import { effectivePolicy, passwordProblem } from './password-policy';
import { canonicalUsername, credentialsFromPassword, InvalidAuthInputError, lookupNames } from './ppp-auth';
import type { ServiceContext } from './service-context';
import { requireTenant } from './tenants';
import { isInPool } from './ip-allocation';
import { disconnectActive } from './sessions-service';
import type { AuthEvent, Page, PageRequest, Tenant, User, UserCredentials } from './types';

export interface CreateUserInput {
  readonly username: string;
  readonly password: string;
  readonly staticIp?: string;
  /** Keep an encrypted copy of the password for CHAP-MD5; defaults to whether the tenant allows CHAP-MD5. */
  readonly chapMd5?: boolean;
}

/**
 * Creates a user of an existing tenant under the canonical form of its name. 409 `user-exists`
 * when that form is taken; 400 for a name with invisible characters or mixed scripts, when
 * staticIp is outside every pool, and `password-too-weak` under the tenant's password policy.
 */
export async function createUser(
  ctx: Pick<ServiceContext, 'store' | 'clock' | 'secretBox'>,
  tenantId: string,
  input: CreateUserInput,
): Promise<User> {
  const canonical = canonicalUsername(input.username);
  if (!canonical.ok) throw new ValidationError('username', canonical.message);
  const username = canonical.name;
  const tenant = await requireTenant(ctx, tenantId);
  if (input.staticIp !== undefined) await requireStaticIpInPool(ctx, tenantId, input.staticIp);
  const credentials = await credentialsUnderPolicy(ctx, tenant, username, input.password, input.chapMd5 ?? tenant.authMethods.includes('chap-md5'));
  const user: User = {
    tenantId,
    username,
    credentials,
    ...(input.staticIp !== undefined ? { staticIp: input.staticIp } : {}),
    createdAt: ctx.clock.now(),
    failedAttempts: 0,
  };
  try {
    await ctx.store.createUser(user);
  } catch (error) {
    if (error instanceof AlreadyExistsError) {
      throw new ConflictError('user-exists', `user ${username} already exists in tenant ${tenantId}`, 'username');
    }
    throw error;
  }
  return user;
}

/**
 * The credentials of a password that the tenant's password policy accepts: 400
 * `password-too-weak` (field `password`) otherwise. The password itself goes no further.
 */
export async function credentialsUnderPolicy(
  ctx: Pick<ServiceContext, 'secretBox'>,
  tenant: Tenant,
  username: string,
  password: string,
  chapMd5: boolean,
): Promise<UserCredentials> {
  const problem = passwordProblem(password, username, effectivePolicy(tenant.passwordPolicy));
  if (problem) throw new BrokerError('validation', 'password-too-weak', `password: ${problem}`, 'password');
  try {
    return await credentialsFromPassword(password, { tenantId: tenant.tenantId, username }, { chapMd5, secretBox: ctx.secretBox });
  } catch (error) {
    if (error instanceof InvalidAuthInputError) throw new ValidationError('password', error.message, { cause: error });
    throw error;
  }
}

export async function listUsers(ctx: Pick<ServiceContext, 'store'>, tenantId: string, page: PageRequest): Promise<Page<User>> {
  await requireTenant(ctx, tenantId);
  return ctx.store.listUsers(tenantId, page);
}

/** The user a name denotes: its canonical form, else (a user stored before canonical names) the name as given. */
export async function findUser(ctx: Pick<ServiceContext, 'store'>, tenantId: string, username: string): Promise<User | undefined> {
  const found = await Promise.all(lookupNames(username).map((name) => ctx.store.getUser(tenantId, name)));
  return found.find((u) => u !== undefined);
}

/**
 * Deletes a user and ends the user's sessions (reason `user-deleted`), the way an operator's
 * DELETE of a session does (sessions-service.ts requestDisconnect). Sessions are asked to end
 * before the user goes, so a failure half-way leaves a user a repeated DELETE finds again; and once
 * more after, for a session started in between.
 */
export async function deleteUser(ctx: Pick<ServiceContext, 'store' | 'clock'>, tenantId: string, username: string): Promise<{ user: User; sessionsEnded: number }> {
  await requireTenant(ctx, tenantId);
  const user = await findUser(ctx, tenantId, username);
  if (!user) throw new NotFoundError('user', username);
  const owner = { tenantId, username: user.username };
  let sessionsEnded = await disconnectActive(ctx, owner, 'user-deleted');
  if (!(await ctx.store.deleteUser(tenantId, user.username))) throw new NotFoundError('user', username);
  sessionsEnded += await disconnectActive(ctx, owner, 'user-deleted');
  return { user, sessionsEnded };
}

export interface UpdateUserInput {
  readonly password?: string;
  /** Keep (or drop) the CHAP-MD5 secret with a new password; default: whether the user had one. */
  readonly chapMd5?: boolean;
  readonly disabled?: boolean;
  /** An address of one of the tenant's pools, or null to remove it. */
  readonly staticIp?: string | null;
}

/**
 * Changes a user: a new password (under the tenant's policy), disabled (which ends the user's
 * sessions with `user-disabled`; new logins are refused `user-disabled`) or enabled again, a static
 * address set (in one of the tenant's pools) or cleared. A static address takes effect at the next
 * session. Returns the user and how many sessions were asked to end.
 */
export async function updateUser(
  ctx: Pick<ServiceContext, 'store' | 'clock' | 'secretBox'>,
  tenantId: string,
  username: string,
  input: UpdateUserInput,
): Promise<{ user: User; sessionsEnded: number }> {
  const tenant = await requireTenant(ctx, tenantId);
  const user = await findUser(ctx, tenantId, username);
  if (!user) throw new NotFoundError('user', username);
  if (typeof input.staticIp === 'string') await requireStaticIpInPool(ctx, tenantId, input.staticIp);
  const credentials =
    input.password !== undefined
      ? await credentialsUnderPolicy(ctx, tenant, user.username, input.password, input.chapMd5 ?? user.credentials.chapSecret !== undefined)
      : undefined;
  const updated = await ctx.store.updateUser(tenantId, user.username, {
    ...(credentials ? { credentials } : {}),
    ...(input.disabled !== undefined ? { disabled: input.disabled } : {}),
    ...(input.staticIp !== undefined ? { staticIp: input.staticIp } : {}),
    updatedAt: ctx.clock.now(),
  });
  const sessionsEnded = input.disabled === true ? await disconnectActive(ctx, { tenantId, username: user.username }, 'user-disabled') : 0;
  return { user: updated, sessionsEnded };
}

/** The user a name denotes, or NotFoundError. */
export async function getUser(ctx: Pick<ServiceContext, 'store'>, tenantId: string, username: string): Promise<User> {
  await requireTenant(ctx, tenantId);
  const user = await findUser(ctx, tenantId, username);
  if (!user) throw new NotFoundError('user', username);
  return user;
}

/** Lifts an account lock and forgets the failures that led to it (as a successful login does). */
export async function unlockUser(ctx: Pick<ServiceContext, 'store'>, tenantId: string, username: string): Promise<User> {
  await requireTenant(ctx, tenantId);
  const user = await findUser(ctx, tenantId, username);
  if (!user) throw new NotFoundError('user', username);
  await ctx.store.clearAuthFailures(tenantId, user.username);
  const after = await ctx.store.getUser(tenantId, user.username);
  if (!after) throw new NotFoundError('user', username);
  return after;
}

async function requireStaticIpInPool(ctx: Pick<ServiceContext, 'store'>, tenantId: string, staticIp: string): Promise<void> {
  const pools = await ctx.store.listPools(tenantId);
  if (!pools.some((pool) => isInPool(pool, staticIp))) {
    throw new ValidationError('staticIp', `${staticIp} is not a usable address of any pool of tenant ${tenantId}`);
  }
}

/** Failures and lockouts of one user, newest first as the store returns them. */
export async function listAuthEvents(
  ctx: Pick<ServiceContext, 'store'>,
  tenantId: string,
  username: string,
  page: PageRequest,
): Promise<Page<AuthEvent>> {
  const tenant = await requireTenant(ctx, tenantId);
  const user = await findUser(ctx, tenantId, username);
  // A RADIUS tenant's users may exist only on its servers: their events are kept under the canonical name.
  if (!user && tenant.authSource?.kind === 'radius') return ctx.store.listAuthEvents(tenantId, lookupNames(username)[0]!, page);
  if (!user) throw new NotFoundError('user', username);
  return ctx.store.listAuthEvents(tenantId, user.username, page);
}
