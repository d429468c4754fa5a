/** Where the CLI finds the broker and its token (cli/src/config.ts): env first, then a 0600 file; never argv. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { configFilePath, resolveConfig, type ConfigFileReader } from '../../../cli/src/config';
import { ConfigError } from '../../../cli/src/errors';

const HOME = '/home/op';
const DEFAULT_PATH = '/home/op/.config/tunnel-broker/config.json';
const files = (entries: Record<string, { text: string; mode?: number }>): ConfigFileReader => ({
  read: (path) => (entries[path] ? { text: entries[path]!.text, mode: entries[path]!.mode ?? 0o100600 } : undefined),
});
const none = files({});
const configError = (fn: () => unknown, pattern: RegExp) => assert.throws(fn, (e: unknown) => e instanceof ConfigError && pattern.test(e.message) && e.exitCode === 4);

describe('CLI configuration', () => {
  test('the environment alone is enough; a trailing slash is dropped', () => {
    assert.deepEqual(resolveConfig({ BROKER_URL: 'http://127.0.0.1:8787/', TUNNEL_BROKER_TOKEN: 'tbk_a_b' }, HOME, none), { brokerUrl: 'http://127.0.0.1:8787', token: 'tbk_a_b' });
  });

  test('the file fills what the environment lacks; the environment wins', () => {
    const f = files({ [DEFAULT_PATH]: { text: JSON.stringify({ brokerUrl: 'https://file.example', token: 'file-token' }) } });
    assert.deepEqual(resolveConfig({}, HOME, f), { brokerUrl: 'https://file.example', token: 'file-token' });
    assert.deepEqual(resolveConfig({ TUNNEL_BROKER_TOKEN: 'env-token' }, HOME, f), { brokerUrl: 'https://file.example', token: 'env-token' });
  });

  test('the file path: TUNNEL_BROKER_CONFIG, then XDG_CONFIG_HOME, then ~/.config', () => {
    assert.equal(configFilePath({ TUNNEL_BROKER_CONFIG: '/etc/tb.json', XDG_CONFIG_HOME: '/x' }, HOME), '/etc/tb.json');
    assert.equal(configFilePath({ XDG_CONFIG_HOME: '/x' }, HOME), '/x/tunnel-broker/config.json');
    assert.equal(configFilePath({}, HOME), DEFAULT_PATH);
  });

  test('a file holding a token readable by group or others is refused, naming the chmod', () => {
    for (const mode of [0o100644, 0o100640, 0o100604]) {
      const f = files({ [DEFAULT_PATH]: { text: JSON.stringify({ brokerUrl: 'http://b', token: 't' }), mode } });
      assert.throws(() => resolveConfig({}, HOME, f), (e: unknown) => e instanceof ConfigError && /readable by others/.test(e.message) && e.hint === `chmod 600 ${DEFAULT_PATH}`);
    }
    const urlOnly = files({ [DEFAULT_PATH]: { text: JSON.stringify({ brokerUrl: 'http://b' }), mode: 0o100644 } });
    assert.equal(resolveConfig({ TUNNEL_BROKER_TOKEN: 't' }, HOME, urlOnly).brokerUrl, 'http://b', 'a file without a token may be world-readable');
  });

  test('missing URL or token, a bad URL, a malformed file or an unknown key is a ConfigError naming it', () => {
    configError(() => resolveConfig({ TUNNEL_BROKER_TOKEN: 't' }, HOME, none), /no broker URL/);
    configError(() => resolveConfig({ BROKER_URL: 'http://b' }, HOME, none), /no token/);
    configError(() => resolveConfig({ BROKER_URL: 'not a url', TUNNEL_BROKER_TOKEN: 't' }, HOME, none), /not a URL/);
    configError(() => resolveConfig({ BROKER_URL: 'ftp://b', TUNNEL_BROKER_TOKEN: 't' }, HOME, none), /not http/);
    configError(() => resolveConfig({}, HOME, files({ [DEFAULT_PATH]: { text: '{nope' } })), /not a JSON object/);
    configError(() => resolveConfig({}, HOME, files({ [DEFAULT_PATH]: { text: '{"brokerUrl":"http://b","tokn":"t"}' } })), /unknown key "tokn"/);
    configError(() => resolveConfig({}, HOME, files({ [DEFAULT_PATH]: { text: '{"brokerUrl":"http://b","token":5}' } })), /token is not a non-empty string/);
    const unreadable: ConfigFileReader = { read: () => { throw new Error('EACCES'); } };
    configError(() => resolveConfig({}, HOME, unreadable), /cannot read config file/);
  });

  test('no error message carries the token', () => {
    const secret = 'tbk_0011223344556677_SECRETSECRET';
    for (const run of [
      () => resolveConfig({ BROKER_URL: 'bad url', TUNNEL_BROKER_TOKEN: secret }, HOME, none),
      () => resolveConfig({}, HOME, files({ [DEFAULT_PATH]: { text: JSON.stringify({ brokerUrl: 'http://b', token: secret }), mode: 0o100644 } })),
    ]) {
      assert.throws(run, (e: unknown) => e instanceof ConfigError && !`${e.message} ${e.hint}`.includes(secret));
    }
  });
});
