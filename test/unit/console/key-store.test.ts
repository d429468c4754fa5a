import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createKeyStore, normalizeKey, STORAGE_KEY, type KeyStorage } from '../../../console/src/key-store';

function memoryStorage(): KeyStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v), removeItem: (k) => void data.delete(k) };
}

test('remembered keys go to sessionStorage; clear removes them', () => {
  const storage = memoryStorage();
  const keys = createKeyStore(storage);
  keys.set('tbk_1', true);
  assert.equal(storage.data.get(STORAGE_KEY), 'tbk_1');
  assert.equal(createKeyStore(storage).get(), 'tbk_1', 'a reload finds it');
  keys.clear();
  assert.equal(storage.data.size, 0);
  assert.equal(keys.get(), undefined);
});

test('a key not remembered stays in memory only (and replaces a stored one)', () => {
  const storage = memoryStorage();
  storage.setItem(STORAGE_KEY, 'old');
  const keys = createKeyStore(storage);
  keys.set('tbk_2', false);
  assert.equal(keys.get(), 'tbk_2');
  assert.equal(storage.data.size, 0);
  assert.equal(createKeyStore(storage).get(), undefined, 'a reload signs out');
  assert.equal(createKeyStore(undefined).get(), undefined, 'no storage at all works too');
});

test('normalizeKey trims and refuses what cannot be a bearer token', () => {
  assert.deepEqual(normalizeKey('  tbk_abc.DEF-123\n'), { key: 'tbk_abc.DEF-123' });
  for (const bad of ['', '   ', 'tbk abc', 'tbk_\u00e9', 'a\tb']) assert.ok('error' in normalizeKey(bad), JSON.stringify(bad));
});
