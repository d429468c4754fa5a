/**
 * Keys more than one part reads, defined once: where the table is, the agents' heartbeat timeout,
 * the tenants' DNS domain.
 */
import { z } from 'zod';
import { DEFAULT_TABLE_NAME } from '../store/table-definition';

/** Where the one table is: DynamoDB Local's endpoint, or the AWS region (from the runtime). */
export interface TableLocation {
  readonly tableName: string;
  readonly endpoint?: string;
  readonly region?: string;
}

// DynamoDB's rule for table names, so a bad name fails here with its key rather than at the first call.
const tableName = z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)');

/** TABLE_NAME (the API function defaults it; the scheduled functions need it set), DYNAMODB_ENDPOINT, AWS_REGION. */
export const tableKeys = (options: { readonly defaultName: boolean }) => ({
  TABLE_NAME: options.defaultName ? tableName.default(DEFAULT_TABLE_NAME) : tableName,
  DYNAMODB_ENDPOINT: z.url().optional(),
  AWS_REGION: z.string().min(1).optional(),
});

export function tableLocation(e: { readonly TABLE_NAME: string; readonly DYNAMODB_ENDPOINT?: string | undefined; readonly AWS_REGION?: string | undefined }): TableLocation {
  return { tableName: e.TABLE_NAME, ...(e.DYNAMODB_ENDPOINT ? { endpoint: e.DYNAMODB_ENDPOINT } : {}), ...(e.AWS_REGION ? { region: e.AWS_REGION } : {}) };
}

/** An agent silent for longer than HEARTBEAT_TIMEOUT_MS is lost (reaper) and not fresh (autoscaler). */
export const heartbeatTimeoutMs = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** VPN_DNS_DOMAIN: the domain under which `<tenantId>.vpn.<domain>` is published. */
export const vpnDnsDomain = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/, 'must be a lower-case DNS domain')
  .optional();

export const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
