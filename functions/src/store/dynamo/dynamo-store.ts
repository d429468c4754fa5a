/**
 * The broker's Store on one DynamoDB table (key layout: docs/data-model.md). The SDK client is
 * injected; invariants are condition expressions; failed conditions become the named errors of
 * `../errors` or outcome values, never SDK exceptions.
 */
import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import {
  systemClock,
  type Agent,
  type AgentCommand,
  type AgentCounters,
  type AgentState,
  type ApiKey,
  type AuthEvent,
  type AuthThrottle,
  type Clock,
  type IdempotencyRecord,
  type IpsecSettings,
  type Lease,
  type Page,
  type PageRequest,
  type Pool,
  type PoolRegistry,
  type Session,
  type Tenant,
  type User,
  type UserCredentials,
  type WrappedDataKey,
} from '../../domain/types';
import { AlreadyExistsError, NotFoundError, PoolRegistryChangedError, StoreUnavailableError } from '../../domain/store-errors';
import type { AgentUpdate, AuthFailureWrite, SessionFilter, StartSessionResult, Store, StopSessionInput } from '../../domain/store';
import { createDynamoClient } from './client';
import { fromItem, toAttributes, toItem, type Item } from './item-codec';
import { gsiKeys, INDEXES, keys, ttlSeconds, type Key } from './keys';
import { cancellationCodes, isConditionFailed, translateSdkError } from './sdk-errors';
import * as sessions from './session-ops';
import { listSessions } from './session-list';
import { recordAuthFailure } from './auth-ops';
import { Table } from './table';

export interface DynamoStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Used only to treat expired TTL items (deleted lazily by DynamoDB) as absent. */
  readonly clock?: Clock;
  /** Merge reads and transactions of one event-loop turn into fewer requests (table.ts). @default true */
  readonly coalesce?: boolean;
}

const NOT_EXISTS = 'attribute_not_exists(PK)';
const EXISTS = 'attribute_exists(PK)';

export class DynamoStore implements Store {
  private readonly table: Table;
  private readonly clock: Clock;

  constructor(options: DynamoStoreOptions) {
    this.table = new Table(options.client, options.tableName, options.coalesce === undefined ? {} : { coalesce: options.coalesce });
    this.clock = options.clock ?? systemClock;
  }

  get tableName(): string {
    return this.table.tableName;
  }

  async ping(): Promise<void> {
    // A GetItem (not DescribeTable) so the functions need no extra IAM permission.
    await this.table.getRaw(keys.ping(), false);
  }

  // --- helpers -------------------------------------------------------------------------------

  /** Conditional put of a new item; AlreadyExistsError when the key is taken. */
  private async create(key: Key, item: Item, entity: string, id: string, parent?: { key: Key; entity: string; id: string }) {
    const put = { TableName: this.tableName, Item: item, ConditionExpression: NOT_EXISTS };
    if (!parent) {
      try {
        await this.table.send('PutItem', (c) => c.send(new PutItemCommand(put)));
      } catch (error) {
        if (isConditionFailed(error)) throw new AlreadyExistsError(entity, id, { cause: error });
        throw translateSdkError(error, 'PutItem');
      }
      return;
    }
    // The parent must exist: a ConditionCheck in the same transaction.
    try {
      await this.table.transact([
        { ConditionCheck: { TableName: this.tableName, Key: toAttributes(parent.key), ConditionExpression: EXISTS } },
        { Put: put },
      ]);
    } catch (error) {
      const codes = cancellationCodes(error);
      if (codes?.[0] === 'ConditionalCheckFailed') throw new NotFoundError(parent.entity, parent.id, { cause: error });
      if (codes?.[1] === 'ConditionalCheckFailed') throw new AlreadyExistsError(entity, id, { cause: error });
      throw translateSdkError(error, 'TransactWriteItems');
    }
    void key;
  }

  /** UpdateItem on an existing item; NotFoundError when absent. Returns the new item. */
  private async update<T>(
    key: Key,
    entity: string,
    id: string,
    expression: { update: string; condition?: string; names?: Record<string, string>; values?: Record<string, unknown> },
  ): Promise<T> {
    try {
      const out = (await this.table.send('UpdateItem', (c) => c.send(new UpdateItemCommand({
          TableName: this.tableName,
          Key: toAttributes(key),
          UpdateExpression: expression.update,
          ConditionExpression: expression.condition ? `${EXISTS} AND (${expression.condition})` : EXISTS,
          ...(expression.names ? { ExpressionAttributeNames: expression.names } : {}),
          ...(expression.values ? { ExpressionAttributeValues: toAttributes(expression.values) } : {}),
          ReturnValues: 'ALL_NEW',
        }))));
      return fromItem<T>(out.Attributes ?? {});
    } catch (error) {
      if (isConditionFailed(error)) throw new NotFoundError(entity, id, { cause: error });
      throw translateSdkError(error, 'UpdateItem');
    }
  }

  /** Builds `SET a = :a, ...` from the defined fields of `changes`. */
  private static setExpression(changes: Record<string, unknown>) {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const parts: string[] = [];
    Object.entries(changes).forEach(([name, value], i) => {
      if (value === undefined) return;
      names[`#u${i}`] = name;
      values[`:u${i}`] = value;
      parts.push(`#u${i} = :u${i}`);
    });
    return { set: parts.join(', '), names, values };
  }

  private kind(kind: 'tenant' | 'agent', id: string) {
    return { [INDEXES.byKind.pk]: gsiKeys.kind(kind), [INDEXES.byKind.sk]: id };
  }

  // --- tenants -------------------------------------------------------------------------------

  async createTenant(tenant: Tenant): Promise<void> {
    const key = keys.tenant(tenant.tenantId);
    await this.create(key, toItem(key, 'tenant', tenant, this.kind('tenant', tenant.tenantId)), 'tenant', tenant.tenantId);
  }

  getTenant(tenantId: string): Promise<Tenant | undefined> {
    return this.table.get<Tenant>(keys.tenant(tenantId));
  }

  listTenants(page: PageRequest): Promise<Page<Tenant>> {
    return this.byKind<Tenant>('tenant', page);
  }

  private byKind<T>(kind: 'tenant' | 'agent', page: PageRequest): Promise<Page<T>> {
    return this.table.queryPage<T>(
      {
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': INDEXES.byKind.pk },
        ExpressionAttributeValues: toAttributes({ ':pk': gsiKeys.kind(kind) }),
      },
      page,
      INDEXES.byKind,
    );
  }

  // --- users ---------------------------------------------------------------------------------

  async createUser(user: User): Promise<void> {
    const key = keys.user(user.tenantId, user.username);
    await this.create(key, toItem(key, 'user', user), 'user', `${user.tenantId}/${user.username}`, {
      key: keys.tenant(user.tenantId),
      entity: 'tenant',
      id: user.tenantId,
    });
  }

  getUser(tenantId: string, username: string): Promise<User | undefined> {
    return this.table.get<User>(keys.user(tenantId, username));
  }

  listUsers(tenantId: string, page: PageRequest): Promise<Page<User>> {
    return this.table.queryPage<User>(
      {
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: toAttributes({ ':pk': keys.tenant(tenantId).PK, ':prefix': keys.userPrefix }),
        ConsistentRead: true,
      },
      page,
    );
  }

  async deleteUser(tenantId: string, username: string): Promise<boolean> {
    try {
      await this.table.send('DeleteItem', (c) => c.send(new DeleteItemCommand({
          TableName: this.tableName,
          Key: toAttributes(keys.user(tenantId, username)),
          ConditionExpression: EXISTS,
        })));
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw translateSdkError(error, 'DeleteItem');
    }
  }

  async replaceUserCredentials(tenantId: string, username: string, credentials: UserCredentials, expected: UserCredentials): Promise<boolean> {
    try {
      await this.update<User>(keys.user(tenantId, username), 'user', `${tenantId}/${username}`, {
        update: 'SET credentials = :new',
        condition: 'credentials = :old',
        values: { ':new': credentials, ':old': expected },
      });
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }

  recordAuthFailure(failure: AuthFailureWrite): Promise<void> {
    return recordAuthFailure(this.table, failure);
  }

  async clearAuthFailures(tenantId: string, username: string): Promise<void> {
    await this.update<User>(keys.user(tenantId, username), 'user', `${tenantId}/${username}`, {
      update: 'SET failedAttempts = :zero REMOVE lockedUntil, failureSources, lockCount',
      values: { ':zero': 0 },
    });
  }

  getAuthThrottle(key: string): Promise<AuthThrottle | undefined> {
    return this.table.get<AuthThrottle>(keys.authThrottle(key));
  }

  async deleteAuthThrottle(key: string): Promise<void> {
    await this.table.send('DeleteItem', (c) => c.send(new DeleteItemCommand({ TableName: this.tableName, Key: toAttributes(keys.authThrottle(key)) })));
  }

  /** Newest first; events past their TTL but not yet deleted by DynamoDB are left out. */
  listAuthEvents(tenantId: string, username: string, page: PageRequest): Promise<Page<AuthEvent>> {
    return this.table.queryPage<AuthEvent>(
      {
        KeyConditionExpression: 'PK = :pk',
        FilterExpression: '#ttl > :now',
        ExpressionAttributeNames: { '#ttl': 'expiresAtMs' },
        ExpressionAttributeValues: toAttributes({ ':pk': keys.authEventPk(tenantId, username), ':now': this.clock.now() }),
        ScanIndexForward: false,
      },
      page,
    );
  }

  // --- pools and leases ----------------------------------------------------------------------

  async createPool(pool: Pool, registry?: PoolRegistry): Promise<void> {
    const key = keys.pool(pool.tenantId, pool.poolId);
    const parent = { key: keys.tenant(pool.tenantId), entity: 'tenant', id: pool.tenantId };
    const id = `${pool.tenantId}/${pool.poolId}`;
    if (!registry) {
      await this.create(key, toItem(key, 'pool', pool), 'pool', id, parent);
      return;
    }
    const next: PoolRegistry = {
      revision: registry.revision + 1,
      pools: [...registry.pools, { tenantId: pool.tenantId, poolId: pool.poolId, cidr: pool.cidr }],
    };
    try {
      await this.table.transact([
        { ConditionCheck: { TableName: this.tableName, Key: toAttributes(parent.key), ConditionExpression: EXISTS } },
        { Put: { TableName: this.tableName, Item: toItem(key, 'pool', pool), ConditionExpression: NOT_EXISTS } },
        {
          // The registry is the fleet-wide overlap check's lock: unchanged since it was read, or absent if it was.
          Put: {
            TableName: this.tableName,
            Item: toItem(keys.poolRegistry(), 'pool-registry', next),
            ...(registry.revision === 0
              ? { ConditionExpression: NOT_EXISTS }
              : { ConditionExpression: '#rev = :rev', ExpressionAttributeNames: { '#rev': 'revision' }, ExpressionAttributeValues: toAttributes({ ':rev': registry.revision }) }),
          },
        },
      ]);
    } catch (error) {
      const codes = cancellationCodes(error);
      if (codes?.[0] === 'ConditionalCheckFailed') throw new NotFoundError(parent.entity, parent.id, { cause: error });
      if (codes?.[1] === 'ConditionalCheckFailed') throw new AlreadyExistsError('pool', id, { cause: error });
      if (codes?.[2] === 'ConditionalCheckFailed') throw new PoolRegistryChangedError({ cause: error });
      throw translateSdkError(error, 'TransactWriteItems');
    }
  }

  getPoolRegistry(): Promise<PoolRegistry | undefined> {
    return this.table.get<PoolRegistry>(keys.poolRegistry());
  }

  getPool(tenantId: string, poolId: string): Promise<Pool | undefined> {
    return this.table.get<Pool>(keys.pool(tenantId, poolId));
  }

  listPools(tenantId: string): Promise<Pool[]> {
    return this.table.queryAll<Pool>({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: toAttributes({ ':pk': keys.tenant(tenantId).PK, ':prefix': keys.poolPrefix }),
      ConsistentRead: true,
    });
  }

  listLeases(tenantId: string, poolId: string): Promise<Lease[]> {
    return this.table.queryAll<Lease>({
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: toAttributes({ ':pk': keys.leasePk(tenantId, poolId) }),
      ConsistentRead: true,
    });
  }

  // --- sessions ------------------------------------------------------------------------------

  startSession(session: Session, lease: Lease): Promise<StartSessionResult> {
    return sessions.startSession(this.table, session, lease);
  }

  getSession(sessionId: string): Promise<Session | undefined> {
    return this.table.get<Session>(keys.session(sessionId));
  }

  updateSessionCounters(sessionId: string, counters: AgentCounters, at: number): Promise<Session | undefined> {
    return sessions.updateSessionCounters(this.table, sessionId, counters, at);
  }

  stopSession(sessionId: string, stop: StopSessionInput): Promise<Session | undefined> {
    return sessions.stopSession(this.table, sessionId, stop);
  }

  markDisconnectRequested(sessionId: string, at: number): Promise<Session | undefined> {
    return sessions.markDisconnectRequested(this.table, sessionId, at);
  }

  listSessions(filter: SessionFilter, page: PageRequest): Promise<Page<Session>> {
    return listSessions(this.table, filter, page);
  }

  // --- agents --------------------------------------------------------------------------------

  async createAgent(agent: Agent): Promise<void> {
    const key = keys.agent(agent.agentId);
    await this.create(key, toItem(key, 'agent', agent, this.kind('agent', agent.agentId)), 'agent', agent.agentId);
  }

  getAgent(agentId: string): Promise<Agent | undefined> {
    return this.table.get<Agent>(keys.agent(agentId));
  }

  listAgents(page: PageRequest): Promise<Page<Agent>> {
    return this.byKind<Agent>('agent', page);
  }

  async updateAgent(agentId: string, changes: AgentUpdate): Promise<Agent> {
    const { set, names, values } = DynamoStore.setExpression({ ...changes });
    if (!set) {
      const agent = await this.getAgent(agentId);
      if (!agent) throw new NotFoundError('agent', agentId);
      return agent;
    }
    return this.update<Agent>(keys.agent(agentId), 'agent', agentId, { update: `SET ${set}`, names, values });
  }

  async transitionAgent(agentId: string, from: readonly AgentState[], to: AgentState, at: number): Promise<Agent | undefined> {
    if (from.length === 0) return undefined;
    const values: Record<string, unknown> = { ':to': to, ':at': at };
    from.forEach((state, i) => (values[`:f${i}`] = state));
    try {
      return await this.update<Agent>(keys.agent(agentId), 'agent', agentId, {
        update: 'SET #state = :to, stateChangedAt = :at',
        condition: `#state IN (${from.map((_, i) => `:f${i}`).join(', ')})`,
        names: { '#state': 'state' },
        values,
      });
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  async enqueueAgentCommand(agentId: string, command: AgentCommand): Promise<void> {
    const key = keys.agentCommand(agentId, command.commandId);
    await this.create(key, toItem(key, 'agent-command', command), 'agent command', command.commandId, {
      key: keys.agent(agentId),
      entity: 'agent',
      id: agentId,
    });
  }

  /** Oldest first (delivery order). */
  async listAgentCommands(agentId: string): Promise<AgentCommand[]> {
    const commands = await this.table.queryAll<AgentCommand>({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: toAttributes({ ':pk': keys.agent(agentId).PK, ':prefix': keys.agentCommandPrefix }),
      ConsistentRead: true,
    });
    return commands.sort((a, b) => a.createdAt - b.createdAt || a.commandId.localeCompare(b.commandId));
  }

  /** Deletes the acknowledged commands; unknown ids are ignored (acks may be repeated). */
  async ackAgentCommands(agentId: string, commandIds: readonly string[]): Promise<void> {
    const unique = [...new Set(commandIds)];
    for (let i = 0; i < unique.length; i += 25) {
      let requests: WriteRequest[] = unique
        .slice(i, i + 25)
        .map((id) => ({ DeleteRequest: { Key: toAttributes(keys.agentCommand(agentId, id)) } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt >= 8) throw new StoreUnavailableError('BatchWriteItem kept leaving unprocessed items');
        if (attempt > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
        const out = (await this.table.send('BatchWriteItem', (c) => c.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: requests } }))));
        requests = out.UnprocessedItems?.[this.tableName] ?? [];
      }
    }
  }

  // --- API keys and fleet settings -----------------------------------------------------------

  async createApiKey(key: ApiKey): Promise<void> {
    const k = keys.apiKey(key.keyId);
    await this.create(k, toItem(k, 'api-key', key), 'api key', key.keyId);
  }

  getApiKey(keyId: string): Promise<ApiKey | undefined> {
    return this.table.get<ApiKey>(keys.apiKey(keyId));
  }

  async revokeApiKey(keyId: string): Promise<boolean> {
    try {
      await this.update<ApiKey>(keys.apiKey(keyId), 'api key', keyId, { update: 'SET revoked = :t', values: { ':t': true } });
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }

  getIpsecSettings(): Promise<IpsecSettings | undefined> {
    return this.table.get<IpsecSettings>(keys.ipsec());
  }

  async putIpsecSettings(settings: IpsecSettings): Promise<void> {
    try {
      await this.table.send('PutItem', (c) => c.send(new PutItemCommand({ TableName: this.tableName, Item: toItem(keys.ipsec(), 'ipsec-settings', settings) })));
    } catch (error) {
      throw translateSdkError(error, 'PutItem');
    }
  }

  async listWrappedDataKeys(): Promise<WrappedDataKey[]> {
    const found = await this.table.queryAll<WrappedDataKey>({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: toAttributes({ ':pk': keys.dataKey('').PK, ':prefix': keys.dataKeyPrefix }),
      ConsistentRead: true,
    });
    return found.sort((a, b) => a.createdAt - b.createdAt || a.keyId.localeCompare(b.keyId));
  }

  async putWrappedDataKey(key: WrappedDataKey): Promise<boolean> {
    try {
      await this.create(keys.dataKey(key.keyId), toItem(keys.dataKey(key.keyId), 'data-key', key), 'data key', key.keyId);
      return true;
    } catch (error) {
      if (error instanceof AlreadyExistsError) return false;
      throw error;
    }
  }

  // --- idempotency ---------------------------------------------------------------------------

  /** Records past expiresAt count as absent even before DynamoDB's TTL sweep removes them. */
  async getIdempotencyRecord(scope: string, key: string): Promise<IdempotencyRecord | undefined> {
    const record = await this.table.get<IdempotencyRecord>(keys.idempotency(scope, key));
    return record && record.expiresAt > this.clock.now() ? record : undefined;
  }

  async putIdempotencyRecord(record: IdempotencyRecord): Promise<boolean> {
    const key = keys.idempotency(record.scope, record.key);
    try {
      await this.table.send('PutItem', (c) => c.send(new PutItemCommand({
          TableName: this.tableName,
          Item: toItem(key, 'idempotency', record),
          // An expired record that the TTL sweep has not removed yet may be replaced.
          ConditionExpression: `${NOT_EXISTS} OR expiresAtMs <= :now`,
          ExpressionAttributeValues: toAttributes({ ':now': this.clock.now() }),
        })));
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw translateSdkError(error, 'PutItem');
    }
  }
}

void ttlSeconds;

/** The store of a table at an endpoint (DynamoDB Local) or in a region (AWS), as entry points' env describes it. */
export function connectDynamoStore(table: { readonly tableName: string; readonly endpoint?: string; readonly region?: string }): DynamoStore {
  const client = createDynamoClient({ ...(table.endpoint ? { endpoint: table.endpoint } : {}), ...(table.region ? { region: table.region } : {}) });
  return new DynamoStore({ client, tableName: table.tableName });
}
