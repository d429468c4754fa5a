/**
 * Lambda entry point of the reaper (scheduled, e.g. every minute). Its part of the broker
 * configuration (config/reaper.ts) is parsed once from the environment, here; the store and clock
 * are built lazily and reused across warm invocations.
 */
import pino from 'pino';
import { parseReaperConfig, type ReaperConfig } from '../config';
import { reap, type ReapSummary } from '../domain/reaper';
import type { Store } from '../domain/store';
import { systemClock, type Clock } from '../domain/types';
import { connectDynamoStore } from '../store/dynamo';

/**
 * Builds a handler from the reaper's configuration. Tests and the local stack pass their own, and
 * may inject the store and logger (the local stack logs each pass at debug and prints only what changed).
 */
export function createReaperHandler(
  config: ReaperConfig,
  overrides: { store?: Store; clock?: Clock; log?: pino.Logger } = {},
): () => Promise<ReapSummary> {
  const log = overrides.log ?? pino({ name: 'reaper' });
  const clock = overrides.clock ?? systemClock;
  const store = overrides.store ?? connectDynamoStore(config.table);
  return async () => {
    const summary = await reap(store, clock, { heartbeatTimeoutMs: config.heartbeatTimeoutMs, leaseGraceMs: config.leaseGraceMs });
    log.info(summary, 'reaper pass done');
    return summary;
  };
}

let cached: (() => Promise<ReapSummary>) | undefined;

export const handler = async (): Promise<ReapSummary> => {
  cached ??= createReaperHandler(parseReaperConfig(process.env));
  return cached();
};
