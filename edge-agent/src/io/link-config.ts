/**
 * Configures the TUN interface with iproute2 (`ip`) through execFile: no shell, arguments as an
 * array. Kept behind a `CommandRunner` so unit tests check the exact commands without root.
 */
import { execFile } from 'node:child_process';
import { LinkConfigError } from './errors';

/** Runs one program; resolves on exit 0, rejects with LinkConfigError otherwise. */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<string>;

/** The real runner: execFile with a timeout, errors naming the whole command and its stderr. */
export function execFileRunner(timeoutMs = 10_000): CommandRunner {
  return (file, args) =>
    new Promise((resolve, reject) => {
      execFile(file, [...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const exitCode = typeof error.code === 'number' ? error.code : null;
        const detail = stderr || (typeof error.code === 'string' ? error.code : error.message);
        reject(new LinkConfigError([file, ...args].join(' '), detail, exitCode, { cause: error }));
      });
    });
}

export interface LinkSettings {
  /** Interface name as returned by the TUN device. */
  readonly name: string;
  readonly mtu: number;
  /**
   * Local addresses in CIDR form, normally each pool's gateway as /32 (e.g. `10.8.0.1/32`): the
   * agent's own end of every PPP link, so the kernel answers pings to it and sources from it.
   */
  readonly addresses: readonly string[];
  /** Pool CIDRs routed into the TUN (`ip route replace <cidr> dev <name>`). */
  readonly routes: readonly string[];
}

export interface LinkConfig {
  /** Set MTU, add addresses, bring the link up, install one covering route per pool. Idempotent. */
  configure(settings: LinkSettings): Promise<void>;
  /** Remove the routes and addresses and set the link down; missing pieces are not errors. */
  teardown(settings: LinkSettings): Promise<void>;
}

/** Build the `ip` command lines for a configuration (exported for tests and dry runs). */
export function configureCommands(s: LinkSettings): string[][] {
  return [
    ['link', 'set', 'dev', s.name, 'mtu', String(s.mtu)],
    // `replace` instead of `add` keeps a restart idempotent when the address survived.
    ...s.addresses.map((a) => ['address', 'replace', a, 'dev', s.name]),
    ['link', 'set', 'dev', s.name, 'up'],
    ...s.routes.map((r) => ['route', 'replace', r, 'dev', s.name]),
  ];
}

export function teardownCommands(s: LinkSettings): string[][] {
  return [
    ...s.routes.map((r) => ['route', 'del', r, 'dev', s.name]),
    ...s.addresses.map((a) => ['address', 'del', a, 'dev', s.name]),
    ['link', 'set', 'dev', s.name, 'down'],
  ];
}

/** A LinkConfig running `ipPath` (default `ip` from PATH) through `runner`. */
export function createLinkConfig(options: { runner?: CommandRunner; ipPath?: string } = {}): LinkConfig {
  const run = options.runner ?? execFileRunner();
  const ip = options.ipPath ?? 'ip';
  return {
    async configure(settings) {
      validate(settings);
      for (const args of configureCommands(settings)) await run(ip, args);
    },
    async teardown(settings) {
      // Best effort: the interface may already be gone (closing a non-persistent TUN deletes it
      // with its routes), so keep going and only report the first failure of a still-present link.
      let first: unknown;
      for (const args of teardownCommands(settings)) {
        try {
          await run(ip, args);
        } catch (error) {
          if (error instanceof LinkConfigError && /Cannot find device|No such process|Cannot assign|does not exist/i.test(error.stderr)) continue;
          first ??= error;
        }
      }
      if (first) throw first;
    },
  };
}

function validate(s: LinkSettings): void {
  // Arguments go to execFile (no shell), but a value starting with '-' would be read as an option.
  const values = [s.name, ...s.addresses, ...s.routes];
  const bad = values.find((v) => v.length === 0 || v.startsWith('-') || /\s/.test(v));
  if (bad !== undefined) throw new LinkConfigError(`ip (not run)`, `invalid argument "${bad}"`, null);
  if (!Number.isInteger(s.mtu) || s.mtu < 576 || s.mtu > 65535) {
    throw new LinkConfigError(`ip link set dev ${s.name} mtu ${s.mtu} (not run)`, 'MTU must be an integer in 576..65535', null);
  }
}
