/** User administration: credentials are derived here and never leave the broker. */
import { AlreadyExistsError } from '../store/errors';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { credentialsFromPassword, InvalidAuthInputError } from './ppp-auth';
import type { ServiceContext } from './service-context';
import { requireTenant } from './tenants';
import { addressInPool } from './pools';
import type { AuthEvent, Page, PageRequest, User } from './types';

export interface CreateUserInput {
  readonly username: string;
  readonly password: string;
  readonly staticIp?: string;
  /** Keep an encrypted copy of the password for CHAP-MD5; defaults to whether the tenant allows CHAP-MD5. */
  readonly chapMd5?: boolean;
}

/** Creates a user of an existing tenant. 409 `user-exists` on duplicates; 400 when staticIp is outside every pool. */
export async function createUser(
  ctx: Pick<ServiceContext, 'store' | 'clock' | 'secretBox'>,
  tenantId: string,
  input: CreateUserInput,
): Promise<User> {
  const tenant = await requireTenant(ctx, tenantId);
  if (input.staticIp !== undefined) {
    const pools = await ctx.store.listPools(tenantId);
    if (!pools.some((pool) => addressInPool(pool, input.staticIp!))) {
      throw new ValidationError('staticIp', `${input.staticIp} is not a usable address of any pool of tenant ${tenantId}`);
    }
  }
  let credentials;
  try {
    credentials = await credentialsFromPassword(input.password, {
      chapMd5: input.chapMd5 ?? tenant.authMethods.includes('chap-md5'),
      secretBox: ctx.secretBox,
    });
  } catch (error) {
    if (error instanceof InvalidAuthInputError) throw new ValidationError('password', error.message, { cause: error });
    throw error;
  }
  const user: User = {
    tenantId,
    username: input.username,
    credentials,
    ...(input.staticIp !== undefined ? { staticIp: input.staticIp } : {}),
    createdAt: ctx.clock.now(),
    failedAttempts: 0,
  };
  try {
    await ctx.store.createUser(user);
  } catch (error) {
    if (error instanceof AlreadyExistsError) {
      throw new ConflictError('user-exists', `user ${input.username} already exists in tenant ${tenantId}`, 'username');
    }
    throw error;
  }
  return user;
}

export async function listUsers(ctx: Pick<ServiceContext, 'store'>, tenantId: string, page: PageRequest): Promise<Page<User>> {
  await requireTenant(ctx, tenantId);
  return ctx.store.listUsers(tenantId, page);
}

export async function deleteUser(ctx: Pick<ServiceContext, 'store'>, tenantId: string, username: string): Promise<void> {
  await requireTenant(ctx, tenantId);
  if (!(await ctx.store.deleteUser(tenantId, username))) throw new NotFoundError('user', username);
}

/** Failures and lockouts of one user, newest first as the store returns them. */
export async function listAuthEvents(
  ctx: Pick<ServiceContext, 'store'>,
  tenantId: string,
  username: string,
  page: PageRequest,
): Promise<Page<AuthEvent>> {
  await requireTenant(ctx, tenantId);
  if (!(await ctx.store.getUser(tenantId, username))) throw new NotFoundError('user', username);
  return ctx.store.listAuthEvents(tenantId, username, page);
}
