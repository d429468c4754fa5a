/**
 * Where the console keeps the API key: the tab's sessionStorage (gone when the tab closes, never
 * sent by the browser on its own the way a cookie is), or only memory when the operator asks.
 */

/** The part of the Web Storage API used (window.sessionStorage has it). */
export interface KeyStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const STORAGE_KEY = 'tunnel-broker.console.api-key';

export interface KeyStore {
  get(): string | undefined;
  /** `remember: false` keeps the key in memory only: a reload signs out. */
  set(key: string, remember: boolean): void;
  clear(): void;
}

export function createKeyStore(storage: KeyStorage | undefined): KeyStore {
  let memory: string | undefined;
  return {
    get: () => memory ?? storage?.getItem(STORAGE_KEY) ?? undefined,
    set(key, remember) {
      memory = key;
      if (remember) storage?.setItem(STORAGE_KEY, key);
      else storage?.removeItem(STORAGE_KEY);
    },
    clear() {
      memory = undefined;
      storage?.removeItem(STORAGE_KEY);
    },
  };
}

/** Trims what was pasted; a key with inner whitespace or control characters is refused before any request. */
export function normalizeKey(raw: string): { key: string } | { error: string } {
  const key = raw.trim();
  if (key === '') return { error: 'Enter an API key.' };
  // Printable ASCII without spaces: anything else cannot be a bearer token (RFC 6750 §2.1 b64token).
  if (!/^[\x21-\x7e]+$/.test(key)) return { error: 'That does not look like an API key: it has spaces or characters a key cannot contain.' };
  return { key };
}
