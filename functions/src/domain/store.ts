import type {
  AccountingRecord,
  Agent,
  AgentCommand,
  AgentCounters,
  AgentState,
  ApiKey,
  AuditEvent,
  AuthEvent,
  AuthMethod,
  AuthThrottle,
  EndReason,
  IdempotencyRecord,
  IpsecSettings,
  Lease,
  Page,
  PageRequest,
  PasswordPolicy,
  Pool,
  PoolRegistry,
  Session,
  SessionState,
  Tenant,
  TenantAuthSource,
  TenantAccounting,
  User,
  UserCredentials,
  WrappedDataKey,
} from './types';

/**
 * Everything the broker persists, as the domain needs it. The domain owns this interface and its
 * errors (`./store-errors`); implementations live in functions/src/store/: DynamoDB (`dynamo/`, the
 * one that ships: invariants are its condition expressions, and a failed condition surfaces as a
 * named error, never as an SDK exception) and an in-memory one for unit tests of the domain.
 *
 * Methods that "create" fail with `AlreadyExistsError` when the item exists; methods that update
 * an item that must exist fail with `NotFoundError`. Reads return `undefined` when absent.
 */
export interface Store {
  /** Cheap round trip used by /healthz. Throws when the table is unreachable. */
  ping(): Promise<void>;

  // --- tenants -------------------------------------------------------------------------------
  createTenant(tenant: Tenant): Promise<void>;
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  listTenants(page: PageRequest): Promise<Page<Tenant>>;
  /** Changes an existing tenant (NotFoundError when absent): fields given are set, `null` removes a limit. */
  updateTenant(tenantId: string, changes: TenantUpdate): Promise<Tenant>;
  /** Deletes the tenant item only (the domain deletes what it holds first); false when absent. */
  deleteTenant(tenantId: string): Promise<boolean>;
  /**
   * Sets a tenant's RADIUS accounting settings, or removes them with null (NotFoundError when
   * the tenant is absent). Returns the tenant after the change.
   */
  setTenantAccounting(tenantId: string, accounting: TenantAccounting | null, updatedAt: number): Promise<Tenant>;

  // --- users ---------------------------------------------------------------------------------
  createUser(user: User): Promise<void>;
  getUser(tenantId: string, username: string): Promise<User | undefined>;
  listUsers(tenantId: string, page: PageRequest): Promise<Page<User>>;
  /** Returns false when the user did not exist. */
  deleteUser(tenantId: string, username: string): Promise<boolean>;
  /**
   * Changes an existing user (NotFoundError when absent): the fields given are set, `staticIp:
   * null` removes the static address. Returns the user after the change.
   */
  updateUser(tenantId: string, username: string, changes: UserUpdate): Promise<User>;
  /**
   * Replaces a user's credentials only while they still are `expected` (re-sealing legacy ones
   * after a login); false when they changed meanwhile or the user is gone.
   */
  replaceUserCredentials(tenantId: string, username: string, credentials: UserCredentials, expected: UserCredentials): Promise<boolean>;
  /**
   * Counts one failed authentication, with the same requests whether or not the user exists (so
   * the answer's timing does not tell): on the user item, only if it exists, ADD failedAttempts 1
   * (+ the source, + the lock of `user.lockUntil`); the event; ADD 1 on every throttle key (or
   * start it at 1 with `reset`). All at once, none waits for another.
   */
  recordAuthFailure(failure: AuthFailureWrite): Promise<void>;
  /** Writes one auth event and counts nothing (a RADIUS outage: shown in auth-events, never a guess). */
  recordAuthEvent(event: AuthEvent): Promise<void>;
  /** Resets failedAttempts, failureSources, lockedUntil and lockCount after a successful authentication. */
  clearAuthFailures(tenantId: string, username: string): Promise<void>;
  /** A throttle record (domain/auth-throttle.ts); records past expiresAt still count until the domain says not. */
  getAuthThrottle(key: string): Promise<AuthThrottle | undefined>;
  deleteAuthThrottle(key: string): Promise<void>;
  listAuthEvents(tenantId: string, username: string, page: PageRequest): Promise<Page<AuthEvent>>;

  // --- pools and leases ----------------------------------------------------------------------
  /**
   * Creates the pool (its tenant must exist). With `registry` (the fleet's pool registry as read,
   * revision 0 when there was none), the registry item is replaced by `registry` plus this pool in
   * the same transaction, only if its revision is still `registry.revision`:
   * `PoolRegistryChangedError` otherwise (read again and re-check). The domain always passes it;
   * without it only the pool item is written (test fixtures).
   */
  createPool(pool: Pool, registry?: PoolRegistry): Promise<void>;
  /** The fleet-wide pool registry, or undefined when no pool was created since it exists. */
  getPoolRegistry(): Promise<PoolRegistry | undefined>;
  /**
   * Replaces an existing pool (NotFoundError when absent). With `registry` (as read), the pool's
   * claim in the fleet's registry takes the new cidr in the same transaction, only if the
   * registry's revision is unchanged (`PoolRegistryChangedError` otherwise).
   */
  updatePool(pool: Pool, registry?: PoolRegistry): Promise<void>;
  /**
   * Deletes a pool and (with `registry`, as read) its claim, in one transaction under the same
   * revision rule. False when the pool did not exist.
   */
  deletePool(tenantId: string, poolId: string, registry?: PoolRegistry): Promise<boolean>;
  getPool(tenantId: string, poolId: string): Promise<Pool | undefined>;
  listPools(tenantId: string): Promise<Pool[]>;
  /** All current leases of a pool (used to pick free candidates and by the reaper). */
  listLeases(tenantId: string, poolId: string): Promise<Lease[]>;

  // --- sessions ------------------------------------------------------------------------------
  /**
   * Atomically (one transaction) claims `lease.ip` and creates the session, idempotent on
   * `session.sessionId` (which the domain derives from agent and reference: session-id.ts):
   *  - `{ outcome: 'created' }` when both were written;
   *  - `{ outcome: 'exists', session }` when a session of that id was started by the same agent
   *    under the same agentSessionRef (a retry); AlreadyExistsError when by another;
   *  - `{ outcome: 'address-taken' }` when the lease rule says the address is held
   *    (ip-allocation/lease-rule.ts): try another.
   * The agent's activeSessions is not touched (it is what the agent reports in its heartbeats).
   * A session with `accounting` gets its Start record (radius-accounting/outbox-rules.ts) in the
   * same transaction.
   */
  startSession(
    session: Session,
    lease: Lease,
  ): Promise<StartSessionResult>;
  getSession(sessionId: string): Promise<Session | undefined>;
  /**
   * Interim accounting: counters only ever grow (a late or duplicated report never lowers them),
   * and a stopped session is never changed. Returns the session after the update, or undefined
   * when it does not exist. When an Interim-Update record is due (outbox-rules.ts interimChange),
   * it is written in the same transaction as the counters.
   */
  updateSessionCounters(sessionId: string, counters: AgentCounters, at: number): Promise<Session | undefined>;
  /**
   * Stops an active session once (transaction): state -> stopped with reason and final counters,
   * lease deleted (only if still held by this session).
   * Idempotent: a second stop returns the already-stopped session unchanged.
   * With `leaseGraceUntil`, the lease is kept with `releaseAfter` instead of being deleted.
   * A session with `accounting` gets its Stop record (outbox-rules.ts) in the same transaction.
   */
  stopSession(sessionId: string, stop: StopSessionInput): Promise<Session | undefined>;
  /**
   * Marks an active session's disconnect as requested at `at` (with `reason` when not a plain
   * operator disconnect); the first request's time and reason are kept. Returns the session (a
   * stopped one unchanged), undefined when absent.
   */
  markDisconnectRequested(sessionId: string, at: number, reason?: EndReason): Promise<Session | undefined>;
  listSessions(filter: SessionFilter, page: PageRequest): Promise<Page<Session>>;

  // --- agents --------------------------------------------------------------------------------
  createAgent(agent: Agent): Promise<void>;
  getAgent(agentId: string): Promise<Agent | undefined>;
  listAgents(page: PageRequest): Promise<Page<Agent>>;
  /** Updates registration/heartbeat fields of an existing agent. */
  updateAgent(agentId: string, changes: AgentUpdate): Promise<Agent>;
  /** Changes state only when the current state is one of `from` (else returns undefined). */
  transitionAgent(agentId: string, from: readonly AgentState[], to: AgentState, at: number): Promise<Agent | undefined>;
  enqueueAgentCommand(agentId: string, command: AgentCommand): Promise<void>;
  listAgentCommands(agentId: string): Promise<AgentCommand[]>;
  ackAgentCommands(agentId: string, commandIds: readonly string[]): Promise<void>;

  // --- API keys and fleet settings -----------------------------------------------------------
  createApiKey(key: ApiKey): Promise<void>;
  getApiKey(keyId: string): Promise<ApiKey | undefined>;
  /** API keys by id; with `tenantId`, only that tenant's keys. */
  listApiKeys(filter: { readonly tenantId?: string }, page: PageRequest): Promise<Page<ApiKey>>;
  revokeApiKey(keyId: string): Promise<boolean>;
  getIpsecSettings(): Promise<IpsecSettings | undefined>;
  putIpsecSettings(settings: IpsecSettings): Promise<void>;
  /** Wrapped data keys (AWS only), oldest first. */
  listWrappedDataKeys(): Promise<WrappedDataKey[]>;
  /** Conditional put: false when a key of that id exists (another instance made it first). */
  putWrappedDataKey(key: WrappedDataKey): Promise<boolean>;

  // --- RADIUS accounting outbox (domain/radius-accounting/) ---------------------------------
  /**
   * Up to `limit` records that may be sent at `now` (nextAttemptAt <= now, not claimed past now),
   * oldest event first. May lag a moment behind writes (an eventually consistent index): the
   * sender finds a record on a later pass.
   */
  listDueAccountingRecords(now: number, limit: number): Promise<AccountingRecord[]>;
  /**
   * Claims a record for sending until `until`, only if it is due at `now` and nobody holds it:
   * the record as claimed, or undefined (absent, not due, or another sender holds it).
   */
  claimAccountingRecord(recordId: string, now: number, until: number): Promise<AccountingRecord | undefined>;
  /** After a failed attempt: records it and releases the claim. Does nothing when the record is gone. */
  deferAccountingRecord(recordId: string, retry: AccountingRetry): Promise<void>;
  /** After an accounting server acknowledged it. */
  deleteAccountingRecord(recordId: string): Promise<void>;
  /** A session's earliest record still waiting (strongly consistent): only it may be sent. */
  oldestAccountingRecord(sessionId: string): Promise<AccountingRecord | undefined>;

  // --- audit log ---------------------------------------------------------------------------
  /** Appends one operator action (never changed afterwards). */
  putAuditEvent(event: AuditEvent): Promise<void>;
  /**
   * Newest first. With `tenantId`, the actions on that tenant; without, every action of the fleet.
   * since (inclusive) / until (exclusive) filter on `at`.
   */
  listAuditEvents(filter: AuditFilter, page: PageRequest): Promise<Page<AuditEvent>>;

  // --- idempotency ---------------------------------------------------------------------------
  getIdempotencyRecord(scope: string, key: string): Promise<IdempotencyRecord | undefined>;
  /** Conditional put: false when a record for (scope, key) already exists. */
  putIdempotencyRecord(record: IdempotencyRecord): Promise<boolean>;
}

export interface AccountingRetry {
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastError: string;
}

export interface AuthFailureWrite {
  /** Names the user as looked up (the canonical name for one that does not exist). */
  readonly event: AuthEvent;
  readonly user: {
    /** Appended to failureSources. */
    readonly addSource?: string;
    /** Locks the account until then and counts the lock (lockCount). */
    readonly lockUntil?: number;
  };
  readonly throttles: readonly { readonly key: string; readonly reset: boolean; readonly expiresAt: number }[];
}

export type StartSessionResult =
  | { outcome: 'created' }
  | { outcome: 'exists'; session: Session }
  | { outcome: 'address-taken' };

export interface StopSessionInput {
  reason: EndReason;
  at: number;
  /** Final counters; like interim ones they never lower what is stored. */
  counters?: AgentCounters;
  /**
   * Keep the lease until this time (epoch ms) instead of deleting it: used when an agent is
   * lost, so the address is not handed out while the dead agent might still forward for it.
   */
  leaseGraceUntil?: number;
  /**
   * The session as the caller just read it: spares the store its own read. A stale snapshot only
   * costs a retry (the transaction's condition fails and the session is read again).
   */
  current?: Session;
}

export interface SessionFilter {
  readonly tenantId?: string;
  readonly username?: string; // requires tenantId
  readonly agentId?: string;
  readonly state?: SessionState;
  readonly since?: number; // startedAt >= since
  readonly until?: number; // startedAt < until
}

export interface TenantUpdate {
  readonly name?: string;
  readonly authMethods?: readonly AuthMethod[];
  /** null removes the limit. */
  readonly maxSessions?: number | null;
  readonly maxSessionsPerUser?: number | null;
  readonly passwordPolicy?: PasswordPolicy;
  readonly authSource?: TenantAuthSource;
  readonly updatedAt: number;
}

export interface AuditFilter {
  readonly tenantId?: string;
  readonly since?: number;
  readonly until?: number;
}

export interface UserUpdate {
  readonly credentials?: UserCredentials;
  readonly disabled?: boolean;
  /** null removes it. */
  readonly staticIp?: string | null;
  readonly updatedAt: number;
}

export interface AgentUpdate {
  readonly name?: string;
  readonly publicAddress?: string;
  readonly capacity?: number;
  readonly enrolledCapacity?: number;
  readonly networks?: readonly string[];
  /** UDP port of the agent's command-nudge listener (0 = none). */
  readonly nudgePort?: number;
  readonly activeSessions?: number;
  readonly lastHeartbeatAt?: number;
  readonly registeredAt?: number;
  readonly counters?: AgentCounters;
  readonly version?: string;
  readonly revoked?: boolean;
  readonly tokenHash?: string;
  readonly drainDeadline?: number;
}
