/**
 * The QEMU guest's kernel: Debian's stock `linux-image-amd64` (the package it depends on, e.g.
 * linux-image-6.1.0-57-amd64) and `busybox-static`, fetched with `apt-get download` and unpacked
 * with `dpkg-deb -x` into a cache directory (not installed: the host's own boot setup is left
 * alone), then `depmod` for a modules.dep. Reused by later runs while the package version is the
 * same. The cache lives outside /tmp because the guest mounts a fresh tmpfs over /tmp.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { E2eError } from './errors';

export const KERNEL_CACHE = '/var/cache/tunnel-broker-e2e';
const KERNEL_META_PACKAGE = 'linux-image-amd64';
const BUSYBOX_PACKAGE = 'busybox-static';

export interface QemuKernel {
  /** Package name and version, e.g. linux-image-6.1.0-57-amd64. */
  readonly packageName: string;
  readonly vmlinuz: string;
  /** Kernel release, e.g. 6.1.0-57-amd64 (the directory under lib/modules). */
  readonly version: string;
  /** `lib/modules/<version>` (with modules.dep). */
  readonly modulesDir: string;
  readonly busybox: string;
}

function run(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): string {
  const result = spawnSync(args[0] ?? 'false', args.slice(1), {
    cwd: options.cwd,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 300_000,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.status !== 0) throw new E2eError(`${args.join(' ')} failed: ${result.error?.message ?? (result.stderr || result.stdout).trim().slice(-500)}`);
  return result.stdout;
}

/** `linux-image-amd64` depends on exactly one versioned image package: that is the kernel. */
function resolveKernelPackage(): string {
  const depends = (): string | undefined => {
    const out = spawnSync('apt-cache', ['depends', KERNEL_META_PACKAGE], { encoding: 'utf8' }).stdout ?? '';
    return /Depends:\s+(linux-image-\S+)/.exec(out)?.[1];
  };
  let name = depends();
  if (!name) {
    run(['apt-get', 'update', '-qq']);
    name = depends();
  }
  if (!name) throw new E2eError(`apt-cache cannot resolve ${KERNEL_META_PACKAGE}: is this a Debian host with its package lists?`);
  return name;
}

/** Downloads and unpacks `pkg` into `<cache>/<pkg>` unless already there; returns that directory. */
function unpacked(pkg: string, ready: (dir: string) => boolean, log: (line: string) => void): string {
  const dir = join(KERNEL_CACHE, pkg);
  if (existsSync(dir) && ready(dir)) return dir;
  log(`fetching ${pkg} for the QEMU guest (apt-get download, unpacked into ${dir})`);
  const work = join(KERNEL_CACHE, `.work-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    run(['apt-get', 'download', '-q', pkg], { cwd: work });
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new E2eError(`apt-get download ${pkg} left no .deb`);
    run(['dpkg-deb', '-x', deb, 'root'], { cwd: work });
    rmSync(dir, { recursive: true, force: true });
    renameSync(join(work, 'root'), dir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return dir;
}

/** Ensures the kernel and busybox are in the cache; fetches them on first use. */
export function ensureQemuKernel(log: (line: string) => void): QemuKernel {
  mkdirSync(KERNEL_CACHE, { recursive: true });
  const packageName = resolveKernelPackage();
  const versionOf = (dir: string) => (existsSync(join(dir, 'lib/modules')) ? readdirSync(join(dir, 'lib/modules'))[0] : undefined);
  const kernelDir = unpacked(packageName, (dir) => {
    const v = versionOf(dir);
    return v !== undefined && existsSync(join(dir, 'lib/modules', v, 'modules.dep'));
  }, log);
  const version = versionOf(kernelDir);
  if (!version) throw new E2eError(`${packageName} has no lib/modules/<version>`);
  const modulesDir = join(kernelDir, 'lib/modules', version);
  // Debian makes modules.dep in the package's postinst; we unpacked without it.
  if (!existsSync(join(modulesDir, 'modules.dep'))) run(['depmod', '-b', kernelDir, version]);
  const vmlinuz = join(kernelDir, 'boot', `vmlinuz-${version}`);
  if (!existsSync(vmlinuz)) throw new E2eError(`${vmlinuz} missing in ${packageName}`);
  const busyboxDir = unpacked(BUSYBOX_PACKAGE, (dir) => existsSync(join(dir, 'bin/busybox')), log);
  return { packageName, vmlinuz, version, modulesDir, busybox: join(busyboxDir, 'bin/busybox') };
}
