/**
 * The RADIUS accounting sender's part of the broker configuration (entry/radius-accounting.ts, the
 * local stack's sender). Where the records go is each tenant's setting (PUT
 * /v1/tenants/{id}/accounting); these are only how hard the sender tries.
 */
import { z } from 'zod';
import { parseEnv, type Env } from './parse-env';

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
