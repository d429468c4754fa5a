/**
 * The RADIUS accounting sender's part of the broker configuration (entry/radius-accounting.ts, the
 * local stack's sender). Where the records go is each tenant's setting (PUT
 * /v1/tenants/{id}/accounting); these are only how hard the sender tries.
 */
import { z } from 'zod';
import type { DataKey } from '../domain/types';
import { dataKeysSchema } from './broker';
import { parseEnv, type Env } from './parse-env';
import { tableKeys, tableLocation, type TableLocation } from './shared-keys';

export interface AccountingSenderConfig {
  /** RADIUS_ACCT_TIMEOUT_MS: wait for an Accounting-Response to each transmission. */
  readonly timeoutMs: number;
  /** RADIUS_ACCT_RETRIES: identical retransmissions per server and attempt. */
  readonly retries: number;
  /** RADIUS_ACCT_BATCH: records read per pass. */
  readonly batchSize: number;
  /** RADIUS_ACCT_BACKOFF_MS / RADIUS_ACCT_MAX_BACKOFF_MS: the first retry, doubling up to the cap. */
  readonly baseBackoffMs: number;
  readonly maxBackoffMs: number;
}

const schema = z.object({
  RADIUS_ACCT_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(2_000),
  RADIUS_ACCT_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  RADIUS_ACCT_BATCH: z.coerce.number().int().min(1).max(1_000).default(100),
  RADIUS_ACCT_BACKOFF_MS: z.coerce.number().int().min(100).default(5_000),
  RADIUS_ACCT_MAX_BACKOFF_MS: z.coerce.number().int().min(1_000).default(300_000),
});

/** Parses the sender's configuration, naming every bad key (ConfigError). */
export function parseAccountingSenderConfig(env: Env): AccountingSenderConfig {
  return parseEnv('radius-accounting', schema, env, (e, problem) => {
    if (e.RADIUS_ACCT_MAX_BACKOFF_MS < e.RADIUS_ACCT_BACKOFF_MS) problem('RADIUS_ACCT_MAX_BACKOFF_MS', 'must not be below RADIUS_ACCT_BACKOFF_MS');
    return {
      timeoutMs: e.RADIUS_ACCT_TIMEOUT_MS,
      retries: e.RADIUS_ACCT_RETRIES,
      batchSize: e.RADIUS_ACCT_BATCH,
      baseBackoffMs: e.RADIUS_ACCT_BACKOFF_MS,
      maxBackoffMs: e.RADIUS_ACCT_MAX_BACKOFF_MS,
    };
  });
}

/** The scheduled accounting function's whole configuration (entry/radius-accounting.ts in AWS). */
export interface AccountingFunctionConfig {
  readonly table: TableLocation;
  /** DATA_KEYS (locally, or keys of a deployment from before KMS); DATA_KEY_KMS_KEY_ID in AWS. */
  readonly dataKeys: readonly DataKey[];
  readonly kmsKeyId?: string;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly sender: AccountingSenderConfig;
}

const functionSchema = z.object({
  ...tableKeys({ defaultName: false }),
  DATA_KEYS: dataKeysSchema.optional(),
  DATA_KEY_KMS_KEY_ID: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** Parses what the function needs and nothing more (no admin token: it serves no request). */
export function parseAccountingFunctionConfig(env: Env): AccountingFunctionConfig {
  const sender = parseAccountingSenderConfig(env);
  return parseEnv('radius-accounting', functionSchema, env, (e, problem) => {
    if (e.DATA_KEYS === undefined && e.DATA_KEY_KMS_KEY_ID === undefined) problem('DATA_KEYS', 'is required (or DATA_KEY_KMS_KEY_ID in AWS)');
    return {
      table: tableLocation(e),
      dataKeys: e.DATA_KEYS ?? [],
      ...(e.DATA_KEY_KMS_KEY_ID ? { kmsKeyId: e.DATA_KEY_KMS_KEY_ID } : {}),
      logLevel: e.LOG_LEVEL,
      sender,
    };
  });
}
