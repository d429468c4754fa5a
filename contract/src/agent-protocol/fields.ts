/**
 * Field schemas the agent protocol is built from, which the broker's operator API uses as well.
 * Plain zod: `.meta()` carries the documentation (examples, formats) that the broker's OpenAPI
 * document shows.
 */
import { z } from 'zod';
import { TENANT_ID_PATTERN } from '../values';

export const TenantIdSchema = z
  .string()
  .regex(TENANT_ID_PATTERN, 'lower-case letters, digits, ".", "_", "-"; 1..64 characters, starting alphanumeric')
  .meta({ example: 'acme' });

/** The user part only (no realm); `\` and control characters would make PPP names ambiguous. */
// eslint-disable-next-line no-control-regex
export const UsernameSchema = z.string().regex(/^[^\\\u0000-\u001f\u007f-\u009f]{1,128}$/, '1..128 characters, no "\\" or control characters').meta({ example: 'alice' });

/** Times on the wire are ISO-8601 text. */
export const IsoTime = z.string().meta({ format: 'date-time', example: '2024-05-01T12:00:00.000Z' });

/** A counter: a non-negative integer JavaScript numbers hold exactly. */
export const Count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Bytes as hex text: any whole number of bytes, or exactly `bytes` of them. */
export const Hex = (bytes?: number) =>
  z.string().regex(bytes === undefined ? /^(?:[0-9a-fA-F]{2})+$/ : new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`), bytes === undefined ? 'hex bytes' : `${bytes} bytes as hex`);
