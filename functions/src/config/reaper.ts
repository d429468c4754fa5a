/** The reaper function's part of the broker configuration (entry/reaper.ts, the local stack's reaper). */
import { z } from 'zod';
import { LEASE_GRACE } from '../domain/ip-allocation/lease-rule';
import { parseEnv, type Env } from './parse-env';
import { heartbeatTimeoutMs, tableKeys, tableLocation, type TableLocation } from './shared-keys';

export interface ReaperConfig {
  readonly table: TableLocation;
  /** HEARTBEAT_TIMEOUT_MS: an agent silent for longer is dead. */
  readonly heartbeatTimeoutMs: number;
  /** LEASE_GRACE_MS: how long a lost session's address stays reserved (the lease rule). */
  readonly leaseGraceMs: number;
}

const reaperSchema = z.object({
  ...tableKeys({ defaultName: false }),
  HEARTBEAT_TIMEOUT_MS: heartbeatTimeoutMs(90_000),
  LEASE_GRACE_MS: z.coerce.number().int().nonnegative().default(LEASE_GRACE.agentLostMs),
});

/** Parses the reaper's configuration, naming every bad or missing key (ConfigError). */
export function parseReaperConfig(env: Env): ReaperConfig {
  return parseEnv('reaper', reaperSchema, env, (e) => ({
    table: tableLocation(e),
    heartbeatTimeoutMs: e.HEARTBEAT_TIMEOUT_MS,
    leaseGraceMs: e.LEASE_GRACE_MS,
  }));
}
