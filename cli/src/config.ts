/**
 * Where the CLI finds the broker and its token: the environment first (`BROKER_URL`,
 * `TUNNEL_BROKER_TOKEN`), then a JSON config file (`TUNNEL_BROKER_CONFIG`, else
 * `$XDG_CONFIG_HOME/tunnel-broker/config.json`, else `~/.config/tunnel-broker/config.json`).
 * Never the command line: arguments are visible to every user of the host (ps, /proc/<pid>/cmdline).
 * Pure over an injected file reader, so every rule is unit-tested.
 */
import { ConfigError } from './errors';

export interface CliConfig {
  readonly brokerUrl: string;
  readonly token: string;
}

/** What the resolver needs from the file system. */
export interface ConfigFileReader {
  /** The file's text and mode, or undefined when it does not exist. Other failures throw. */
  read(path: string): { text: string; mode: number } | undefined;
}

/** The config file's path for this environment. */
export function configFilePath(env: Readonly<Record<string, string | undefined>>, homeDir: string): string {
  if (env.TUNNEL_BROKER_CONFIG) return env.TUNNEL_BROKER_CONFIG;
  const base = env.XDG_CONFIG_HOME || `${homeDir}/.config`;
  return `${base}/tunnel-broker/config.json`;
}

const SETUP_HINT = 'export BROKER_URL=http://127.0.0.1:8787 and TUNNEL_BROKER_TOKEN (an API key tbk_... or the admin token), or write them to the config file (docs/cli.md)';

/** Resolves the broker URL and token; a missing or unsafe source is a ConfigError naming it. */
export function resolveConfig(env: Readonly<Record<string, string | undefined>>, homeDir: string, files: ConfigFileReader): CliConfig {
  const path = configFilePath(env, homeDir);
  let file: { brokerUrl?: unknown; token?: unknown } = {};
  const needFile = !env.BROKER_URL || !env.TUNNEL_BROKER_TOKEN;
  const found = needFile ? readFile(files, path) : undefined;
  if (found) {
    try {
      const parsed: unknown = JSON.parse(found.text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      file = parsed as typeof file;
    } catch {
      throw new ConfigError(`config file ${path} is not a JSON object`, 'write it as {"brokerUrl": "...", "token": "..."}');
    }
    for (const key of Object.keys(file)) {
      if (key !== 'brokerUrl' && key !== 'token') throw new ConfigError(`config file ${path} has an unknown key "${key}"`, 'only brokerUrl and token are read');
    }
    // A token readable by others is as good as published: refuse it, as ssh does a private key.
    if (file.token !== undefined && (found.mode & 0o077) !== 0) {
      throw new ConfigError(
        `config file ${path} holds a token but is readable by others (mode ${(found.mode & 0o777).toString(8)})`,
        `chmod 600 ${path}`,
      );
    }
  }
  const brokerUrl = env.BROKER_URL || stringOrUndefined(file.brokerUrl, 'brokerUrl', path);
  const token = env.TUNNEL_BROKER_TOKEN || stringOrUndefined(file.token, 'token', path);
  if (!brokerUrl) throw new ConfigError('no broker URL: BROKER_URL is not set and the config file has no brokerUrl', SETUP_HINT);
  if (!token) throw new ConfigError('no token: TUNNEL_BROKER_TOKEN is not set and the config file has no token', SETUP_HINT);
  let url: URL;
  try {
    url = new URL(brokerUrl);
  } catch {
    throw new ConfigError(`broker URL "${brokerUrl}" is not a URL`, 'use e.g. http://127.0.0.1:8787 or https://api.example.com');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`broker URL "${brokerUrl}" is not http(s)`, 'use e.g. http://127.0.0.1:8787 or https://api.example.com');
  }
  return { brokerUrl: brokerUrl.replace(/\/+$/, ''), token };
}

function readFile(files: ConfigFileReader, path: string): { text: string; mode: number } | undefined {
  try {
    return files.read(path);
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`, 'fix its permissions, or set TUNNEL_BROKER_CONFIG to another file');
  }
}

function stringOrUndefined(value: unknown, key: string, path: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new ConfigError(`config file ${path}: ${key} is not a non-empty string`, 'fix the file');
  return value;
}
