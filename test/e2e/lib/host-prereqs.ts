/**
 * Host prerequisites: root, the Debian packages the guest runs (the guest boots the host's root
 * filesystem, so every client binary is a host package), and the guest kernel: User-Mode Linux
 * with its modules, or for QEMU the packages qemu-kernel.ts fetches.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { E2eError } from './errors';

/** What the guest runs, whatever the backend. */
export const REQUIRED_PACKAGES = [
  'strongswan-charon',
  'strongswan-swanctl',
  'libstrongswan-standard-plugins',
  'xl2tpd',
  'ppp',
  'kmod',
  'iproute2',
  'iputils-ping',
  'iptables',
  'conntrack',
  'procps',
  'util-linux',
] as const;

/** Per guest backend: the UML kernel package, or QEMU (whose kernel and busybox are downloaded, not installed). */
export const BACKEND_PACKAGES = {
  uml: ['user-mode-linux'],
  qemu: ['qemu-system-x86'],
} as const;

export interface UmlKernel {
  readonly binary: string;
  readonly version: string;
  /** `lib/modules/<version>` lives here: the root handed to `modprobe -d`. */
  readonly modulesDir: string;
}

/** DynamoDB Local (the broker's table) runs on Java; any JRE on PATH will do, else this one. */
const JAVA_PACKAGE = 'openjdk-17-jre-headless';

function missingPackages(extra: readonly string[]): string[] {
  const javaMissing = spawnSync('java', ['-version'], { stdio: 'ignore' }).error !== undefined;
  return [...REQUIRED_PACKAGES, ...extra, ...(javaMissing ? [JAVA_PACKAGE] : [])].filter((name) => {
    const probe = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return probe.status !== 0 || !probe.stdout.includes('install ok installed');
  });
}

/** Installs whatever is missing (the common packages plus `extra`) with apt-get (bounded), then checks again. */
export function ensurePackages(log: (line: string) => void, extra: readonly string[] = []): void {
  if (process.getuid?.() !== 0) throw new E2eError('the e2e harness needs root (TAP device, apt-get); run it with sudo');
  const missing = missingPackages(extra);
  if (missing.length === 0) return;
  log(`installing ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args: string[], timeoutMs: number) => {
    const result = spawnSync(args[0] ?? 'false', args.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: timeoutMs, encoding: 'utf8' });
    if (result.status !== 0) throw new E2eError(`${args.join(' ')} failed: ${result.error?.message ?? result.stderr.slice(-500)}`);
  };
  run(['apt-get', 'update', '-qq'], 300_000);
  run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...missing], 600_000);
  const still = missingPackages(extra);
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

const PROBE_INIT = join(dirname(fileURLToPath(import.meta.url)), '../guest/probe-init.sh');

/**
 * Why this host cannot run the real clients in User-Mode Linux, or undefined when it can: boots
 * the kernel with an init that runs Node (a few seconds). Seen on hosts with AVX-512 and AMX:
 * UML 6.1 (and trixie's 6.12) writes a guest's FPU state back with an XSAVE buffer smaller than
 * the host's, the host refuses it, and the guest's init dies at once ("userspace - ptrace set fp
 * regs failed, errno = 14"). Hiding the XSAVE regset from UML (seccomp) lets it boot, but then the
 * AVX state is lost at every trap and Node aborts in the guest ("Invalid bytecode"), so that is
 * not a way around it.
 */
export function umlUnsupportedReason(kernel: UmlKernel, scratchDir: string): string | undefined {
  const umlDir = join(scratchDir, 'uml-probe');
  mkdirSync(umlDir, { recursive: true });
  const args = [
    'mem=256M',
    `uml_dir=${umlDir}`,
    'root=/dev/root',
    'rootfstype=hostfs',
    'rootflags=/',
    'ro',
    `init=${PROBE_INIT}`,
    'con=null',
    'con0=fd:0,fd:1',
    `E2E_NODE=${process.execPath}`,
  ];
  const probe = spawnSync(kernel.binary, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 90_000, killSignal: 'SIGKILL' });
  const output = `${probe.stdout ?? ''}${probe.stderr ?? ''}`;
  if (output.includes('E2E-PROBE-NODE-OK')) return undefined;
  const lines = output.split('\n').map((line) => line.trim());
  // The first telling line, most specific first (the console also has harmless "failed" lines).
  const why = [/ptrace .*failed/, /panic/i, /abort|Segmentation fault|Invalid bytecode/].map((re) => lines.find((line) => re.test(line))).find(Boolean);
  return why ?? (probe.error ? probe.error.message : `the guest did not run Node (exit ${probe.status})`);
}
