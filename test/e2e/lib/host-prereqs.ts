/**
 * Host prerequisites: root, the Debian packages the guest runs (the guest boots the host's root
 * filesystem, so every client binary is a host package), and the UML kernel with its modules.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { E2eError } from './errors';

export const REQUIRED_PACKAGES = [
  'user-mode-linux',
  'strongswan-charon',
  'strongswan-swanctl',
  'libstrongswan-standard-plugins',
  'xl2tpd',
  'ppp',
  'kmod',
  'iproute2',
  'iputils-ping',
  'iptables',
  'procps',
  'util-linux',
] as const;

export interface UmlKernel {
  readonly binary: string;
  readonly version: string;
  /** `lib/modules/<version>` lives here: the root handed to `modprobe -d`. */
  readonly modulesDir: string;
}

/** DynamoDB Local (the broker's table) runs on Java; any JRE on PATH will do, else this one. */
const JAVA_PACKAGE = 'openjdk-17-jre-headless';

function missingPackages(): string[] {
  const javaMissing = spawnSync('java', ['-version'], { stdio: 'ignore' }).error !== undefined;
  return [...REQUIRED_PACKAGES, ...(javaMissing ? [JAVA_PACKAGE] : [])].filter((name) => {
    const probe = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return probe.status !== 0 || !probe.stdout.includes('install ok installed');
  });
}

/** Installs whatever is missing with apt-get (bounded), then checks again. */
export function ensurePackages(log: (line: string) => void): void {
  if (process.getuid?.() !== 0) throw new E2eError('the e2e harness needs root (TAP device, apt-get); run it with sudo');
  const missing = missingPackages();
  if (missing.length === 0) return;
  log(`installing ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args: string[], timeoutMs: number) => {
    const result = spawnSync(args[0] ?? 'false', args.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: timeoutMs, encoding: 'utf8' });
    if (result.status !== 0) throw new E2eError(`${args.join(' ')} failed: ${result.error?.message ?? result.stderr.slice(-500)}`);
  };
  run(['apt-get', 'update', '-qq'], 300_000);
  run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...missing], 600_000);
  const still = missingPackages();
  if (still.length > 0) throw new E2eError(`packages still missing after apt-get: ${still.join(' ')}`);
}

/** Debian's user-mode-linux package: /usr/bin/linux.uml and /usr/lib/uml/modules/<version>. */
export function findUmlKernel(): UmlKernel {
  const binary = '/usr/bin/linux.uml';
  const base = '/usr/lib/uml/modules';
  if (!existsSync(binary) || !existsSync(base)) throw new E2eError(`${binary} or ${base} missing: is user-mode-linux installed?`);
  const version = readdirSync(base).find((name) => existsSync(join(base, name, 'modules.dep')));
  if (!version) throw new E2eError(`no modules.dep under ${base}`);
  return { binary, version, modulesDir: join(base, version) };
}
