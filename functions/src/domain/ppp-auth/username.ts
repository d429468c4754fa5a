import { TENANT_ID_PATTERN } from '../../../../contract/src/values';
import { InvalidPppUsernameError } from './errors';

/**
 * A PPP Name split into the user and the tenant it names.
 *
 * Rules (the Name is what the peer sent in CHAP/MS-CHAPv2 Response or PAP Authenticate-Request):
 * - `TENANT\user` (Windows domain form): split at the single backslash; more than one is rejected.
 * - `user@tenant` (realm form): split at the LAST `@`, so a user name may itself contain `@`
 *   (`bob@example.com@acme` -> user `bob@example.com`, tenant `acme`).
 * - anything else is a plain name with no tenant; the caller decides (e.g. a default tenant).
 * The tenant id is lower-cased and must match TENANT_ID_PATTERN (the contract's, as the agent
 * protocol checks tenant ids with it too); the user name keeps its case.
 * Empty parts, control characters (C0, DEL, C1) and names over 256 UTF-8 bytes are rejected.
 */
export interface ParsedPppUsername {
  readonly username: string;
  readonly tenantId?: string;
  readonly form: 'plain' | 'domain' | 'realm';
}

/** RFC 2759 and common clients limit the Name to 256 octets. */
export const MAX_PPP_NAME_BYTES = 256;

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

/** Parses a PPP Name. Throws InvalidPppUsernameError (with a `reason`) for unusable names. */
export function parsePppUsername(name: string): ParsedPppUsername {
  if (name.length === 0) throw new InvalidPppUsernameError('empty', 'user name is empty');
  if (CONTROL_CHARS.test(name)) throw new InvalidPppUsernameError('control-character', 'user name contains a control character');
  if (Buffer.byteLength(name, 'utf8') > MAX_PPP_NAME_BYTES) {
    throw new InvalidPppUsernameError('too-long', `user name is longer than ${MAX_PPP_NAME_BYTES} bytes`);
  }
  const slash = name.indexOf('\\');
  if (slash !== -1) {
    if (name.indexOf('\\', slash + 1) !== -1) {
      throw new InvalidPppUsernameError('ambiguous-separator', 'user name contains more than one backslash');
    }
    return split(name.slice(slash + 1), name.slice(0, slash), 'domain');
  }
  const at = name.lastIndexOf('@');
  if (at !== -1) return split(name.slice(0, at), name.slice(at + 1), 'realm');
  return { username: name, form: 'plain' };
}

function split(username: string, realm: string, form: 'domain' | 'realm'): ParsedPppUsername {
  if (username.length === 0) throw new InvalidPppUsernameError('empty-username', 'user part of the name is empty');
  if (realm.length === 0) throw new InvalidPppUsernameError('empty-realm', 'realm/domain part of the name is empty');
  const tenantId = realm.toLowerCase();
  if (!TENANT_ID_PATTERN.test(tenantId)) {
    throw new InvalidPppUsernameError('invalid-realm', `realm "${realm}" is not a valid tenant id`);
  }
  return { username, tenantId, form };
}
