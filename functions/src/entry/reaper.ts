/**
 * Lambda entry point of the reaper (scheduled, e.g. every minute). Configuration comes from the
 * environment, parsed once here; the store and clock are built lazily and reused across warm
 * invocations.
 */
import pino from 'pino';
import { z } from 'zod';
import { LEASE_GRACE } from '../domain/ip-allocation/lease-rule';
import { reap, type ReapSummary } from '../domain/reaper';
import { systemClock, type Clock } from '../domain/types';
import type { Store } from '../domain/store';
import { connectDynamoStore } from '../store/dynamo';

export const ReaperEnv = z.object({
  TABLE_NAME: z.string().min(1),
  DYNAMODB_ENDPOINT: z.url().optional(),
  AWS_REGION: z.string().min(1).optional(),
  HEARTBEAT_TIMEOUT_MS: z.coerce.number().int().positive().default(90_000),
  LEASE_GRACE_MS: z.coerce.number().int().nonnegative().default(LEASE_GRACE.agentLostMs),
});
export type ReaperEnv = z.infer<typeof ReaperEnv>;

/** Parses the env object, naming every missing or bad key. */
export function parseReaperEnv(env: Record<string, string | undefined>): ReaperEnv {
  const parsed = ReaperEnv.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new Error(`reaper configuration invalid: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/**
 * Builds a handler from an env object. Tests and the local stack pass their own env, and may inject
 * the store and logger (the local stack logs each pass at debug and prints only what changed).
 */
export function createReaperHandler(
  env: Record<string, string | undefined>,
  overrides: { store?: Store; clock?: Clock; log?: pino.Logger } = {},
): () => Promise<ReapSummary> {
  const config = parseReaperEnv(env);
  const log = overrides.log ?? pino({ name: 'reaper' });
  const clock = overrides.clock ?? systemClock;
  const store =
    overrides.store ??
    connectDynamoStore({
      tableName: config.TABLE_NAME,
      ...(config.DYNAMODB_ENDPOINT ? { endpoint: config.DYNAMODB_ENDPOINT } : {}),
      ...(config.AWS_REGION ? { region: config.AWS_REGION } : {}),
    });
  return async () => {
    const summary = await reap(store, clock, {
      heartbeatTimeoutMs: config.HEARTBEAT_TIMEOUT_MS,
      leaseGraceMs: config.LEASE_GRACE_MS,
    });
    log.info(summary, 'reaper pass done');
    return summary;
  };
}

let cached: (() => Promise<ReapSummary>) | undefined;

export const handler = async (): Promise<ReapSummary> => {
  cached ??= createReaperHandler(process.env);
  return cached();
};
