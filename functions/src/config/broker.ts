/**
 * The API function's part of the broker configuration (entry/lambda.ts, the local stack's
 * broker): parsed once from an env-like object; modules receive the typed BrokerConfig, the
 * domain only its DomainSettings.
 */
import { z } from 'zod';
import type { DomainSettings } from '../domain/service-context';
import type { DataKey } from '../domain/types';
import { parseEnv, type Env } from './parse-env';
import { positiveInt, tableKeys, tableLocation, vpnDnsDomain, type TableLocation } from './shared-keys';

/** Everything the broker's API function reads; the domain's part is DomainSettings. */
export interface BrokerConfig extends DomainSettings {
  /** Fleet admin bearer token (bootstrap credential; create API keys with it). */
  readonly adminToken: string;
  readonly table: TableLocation;
  /**
   * DATA_KEYS: the key ring locally; in AWS only keys of a deployment from before KMS (they open
   * what they sealed). The entry point puts the KMS data keys first (entry/kms-data-keys.ts).
   */
  readonly dataKeys: readonly DataKey[];
  /** The customer-managed KMS key that wraps the data keys (AWS); undefined locally. */
  readonly kmsKeyId?: string;
  readonly maxBodyBytes: number;
  /** Server-side limit for one request; the API answers 504 JSON past it (below the Lambda timeout of 15 s). */
  readonly requestTimeoutMs: number;
  /** How long tenant settings and pool lists are cached per process (0: not cached). */
  readonly settingsCacheMs: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/** DATA_KEYS: `keyId:base64,...` (32-byte keys), the first one seals. */
export const dataKeysSchema = z.string().transform((raw, ctx): DataKey[] => {
  const keys: DataKey[] = [];
  for (const entry of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const colon = entry.indexOf(':');
    const keyId = entry.slice(0, colon);
    const keyBase64 = entry.slice(colon + 1);
    if (colon <= 0 || !/^[A-Za-z0-9._-]+$/.test(keyId)) {
      ctx.addIssue({ code: 'custom', message: `entry "${entry.slice(0, 12)}..." must be keyId:base64` });
      return z.NEVER;
    }
    if (Buffer.from(keyBase64, 'base64').length !== 32) {
      ctx.addIssue({ code: 'custom', message: `key ${keyId} must be 32 bytes of base64` });
      return z.NEVER;
    }
    keys.push({ keyId, keyBase64 });
  }
  if (keys.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'at least one keyId:base64 entry is required' });
    return z.NEVER;
  }
  return keys;
});

const envSchema = z.object({
  BROKER_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters'),
  ...tableKeys({ defaultName: true }),
  DATA_KEYS: dataKeysSchema.optional(),
  DATA_KEY_KMS_KEY_ID: z.string().min(1).optional(),
  AUTH_SOURCE_THRESHOLD: positiveInt(5),
  AUTH_DELAY_SECONDS: positiveInt(30),
  AUTH_DELAY_MAX_SECONDS: positiveInt(900),
  AUTH_AGENT_PRESSURE_PER_MINUTE: positiveInt(60),
  AUTH_LOCKOUT_THRESHOLD: positiveInt(10),
  AUTH_LOCKOUT_SECONDS: positiveInt(900),
  // One source must never be enough to lock an account (issue 14): 0 (off) or at least 2.
  AUTH_LOCKOUT_SOURCES: z.coerce.number().int().min(0).max(32).refine((n) => n !== 1, 'must be 0 (off) or at least 2').default(0),
  AUTH_EVENT_TTL_DAYS: positiveInt(30),
  HEARTBEAT_INTERVAL_SECONDS: positiveInt(30),
  IDEMPOTENCY_TTL_HOURS: positiveInt(24),
  MAX_BODY_BYTES: positiveInt(64 * 1024),
  REQUEST_TIMEOUT_MS: positiveInt(10_000),
  SETTINGS_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  VPN_DNS_DOMAIN: vpnDnsDomain,
  // What the broker calls itself in Access-Requests to tenants' RADIUS servers (docs/radius.md).
  RADIUS_NAS_IDENTIFIER: z.string().min(1).max(64).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces').default('tunnel-broker'),
  RADIUS_NAS_IP_ADDRESS: z.ipv4().optional(),
});

/**
 * Parses the API function's configuration, naming every bad or missing key (ConfigError; its
 * message never contains a value).
 */
export function parseBrokerConfig(env: Env): BrokerConfig {
  return parseEnv('broker', envSchema, env, (e, problem) => {
    if (e.DATA_KEYS === undefined && e.DATA_KEY_KMS_KEY_ID === undefined) problem('DATA_KEYS', 'is required (or DATA_KEY_KMS_KEY_ID in AWS)');
    return {
      adminToken: e.BROKER_ADMIN_TOKEN,
      table: tableLocation(e),
      dataKeys: e.DATA_KEYS ?? [],
      ...(e.DATA_KEY_KMS_KEY_ID ? { kmsKeyId: e.DATA_KEY_KMS_KEY_ID } : {}),
      authThrottle: {
        sourceThreshold: e.AUTH_SOURCE_THRESHOLD,
        baseDelayMs: e.AUTH_DELAY_SECONDS * 1000,
        maxDelayMs: Math.max(e.AUTH_DELAY_MAX_SECONDS, e.AUTH_DELAY_SECONDS) * 1000,
        agentPressurePerMinute: e.AUTH_AGENT_PRESSURE_PER_MINUTE,
      },
      lockout: { threshold: e.AUTH_LOCKOUT_THRESHOLD, durationMs: e.AUTH_LOCKOUT_SECONDS * 1000, sources: e.AUTH_LOCKOUT_SOURCES },
      authEventTtlMs: e.AUTH_EVENT_TTL_DAYS * 86_400_000,
      heartbeatIntervalSeconds: e.HEARTBEAT_INTERVAL_SECONDS,
      idempotencyTtlMs: e.IDEMPOTENCY_TTL_HOURS * 3_600_000,
      maxBodyBytes: e.MAX_BODY_BYTES,
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      settingsCacheMs: e.SETTINGS_CACHE_SECONDS * 1000,
      logLevel: e.LOG_LEVEL,
      ...(e.VPN_DNS_DOMAIN ? { vpnDnsDomain: e.VPN_DNS_DOMAIN } : {}),
      radiusNas: { identifier: e.RADIUS_NAS_IDENTIFIER, ...(e.RADIUS_NAS_IP_ADDRESS ? { ipAddress: e.RADIUS_NAS_IP_ADDRESS } : {}) },
    };
  });
}
