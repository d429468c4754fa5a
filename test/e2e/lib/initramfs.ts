/**
 * The QEMU guest's initramfs, built at test time: busybox (Debian's busybox-static), the kernel
 * modules needed to mount the host's root over virtio-9p, and an /init that mounts it and
 * switches to test/e2e/guest/init.sh. Pure parts (cpio "newc" archive, module dependency
 * closure, the /init script) are exported for unit tests; `writeInitramfs` does the file I/O.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type CpioEntry =
  | { readonly kind: 'dir'; readonly path: string; readonly mode?: number }
  | { readonly kind: 'file'; readonly path: string; readonly data: Uint8Array; readonly mode?: number }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

function hex8(value: number): string {
  return value.toString(16).padStart(8, '0');
}

function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

/**
 * A cpio archive in the "newc" format the kernel unpacks into its initramfs
 * (Documentation/driver-api/early-userspace/buffer-format.rst): per entry a 110-byte ASCII header
 * of "070701" and 13 eight-digit hex fields, the NUL-terminated name, padding to 4, the data,
 * padding to 4; closed by the entry "TRAILER!!!".
 */
export function cpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const push = (name: string, mode: number, data: Buffer, nlink: number) => {
    const nameBytes = Buffer.from(`${name}\0`);
    const fields = [ino++, mode, 0, 0, nlink, 0, data.length, 0, 0, 0, 0, nameBytes.length, 0];
    const header = Buffer.from(`070701${fields.map(hex8).join('')}`, 'ascii');
    parts.push(header, nameBytes, pad4(header.length + nameBytes.length), data, pad4(data.length));
  };
  for (const entry of entries) {
    const name = entry.path.replace(/^\/+/, '');
    if (entry.kind === 'dir') push(name, S_IFDIR | (entry.mode ?? 0o755), Buffer.alloc(0), 2);
    else if (entry.kind === 'file') push(name, S_IFREG | (entry.mode ?? 0o644), Buffer.from(entry.data), 1);
    else push(name, S_IFLNK | 0o777, Buffer.from(entry.target), 1);
  }
  push('TRAILER!!!', 0, Buffer.alloc(0), 1);
  return Buffer.concat(parts);
}

/**
 * The modules to load, dependencies first, from a `modules.dep` text ("path: dep dep ..."),
 * for the wanted module names (`-` and `_` are the same in module names). Unknown names are
 * returned in `missing` (they may be built into the kernel: see `modules.builtin`).
 */
export function moduleClosure(modulesDep: string, wanted: readonly string[]): { ordered: string[]; missing: string[] } {
  const depsOf = new Map<string, string[]>();
  const pathOf = new Map<string, string>();
  const nameOf = (path: string) => (path.split('/').pop() ?? '').replace(/\.ko(\.xz|\.zst|\.gz)?$/, '').replace(/-/g, '_');
  for (const line of modulesDep.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const path = line.slice(0, colon).trim();
    const deps = line.slice(colon + 1).trim().split(/\s+/).filter(Boolean);
    depsOf.set(path, deps);
    pathOf.set(nameOf(path), path);
  }
  const ordered: string[] = [];
  const missing: string[] = [];
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    // modules.dep lists a module's full dependency set; load order: each dependency's own deps first.
    for (const dep of depsOf.get(path) ?? []) visit(dep);
    ordered.push(path);
  };
  for (const name of wanted) {
    const path = pathOf.get(name.replace(/-/g, '_'));
    if (path === undefined) missing.push(name);
    else visit(path);
  }
  return { ordered, missing };
}

/** Modules that mount the host root over virtio-9p and bring up the virtio NIC. */
export const INITRAMFS_MODULES = ['virtio_pci', 'virtio_net', '9pnet_virtio', '9p'] as const;

/** 9p mount tags (QEMU `-fsdev ... -device virtio-9p-pci,mount_tag=`). */
export const ROOT_TAG = 'hostroot';
export const RUN_TAG = 'e2erun';
/** 9p options: the Linux 9P2000.L dialect, large messages; the host root is read-only and does not change during a run. */
export const NINEP_OPTIONS = 'trans=virtio,version=9p2000.L,msize=262144';

/** /init of the initramfs: load the modules, mount the host root read-only, hand over to `E2E_INIT`. */
export function initScript(modules: readonly string[]): string {
  return `#!/bin/busybox sh
# initramfs of the e2e QEMU guest (test/e2e/lib/initramfs.ts). Kernel command-line words NAME=value
# arrive in the environment and are passed on to E2E_INIT (test/e2e/guest/init.sh) by switch_root.
/bin/busybox mkdir -p /bin /proc /sys /dev /newroot
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in ${modules.map((m) => `/${m}`).join(' ')}; do insmod "$m" || echo "initramfs: insmod $m failed"; done
if ! mount -t 9p -o ${NINEP_OPTIONS},ro,cache=loose ${ROOT_TAG} /newroot; then
  echo "initramfs: FATAL: cannot mount the host root over 9p"; poweroff -f
fi
mount --move /dev /newroot/dev
umount /proc /sys
exec switch_root /newroot "\${E2E_INIT:-/sbin/init}"
`;
}

/**
 * Writes `<dir>/initramfs.cpio` (uncompressed: the kernel takes it as is) from busybox and the
 * modules under `modulesRoot` (`lib/modules/<version>` with a depmod-made modules.dep).
 */
export function writeInitramfs(options: { dir: string; busybox: string; modulesRoot: string }): string {
  const modulesDep = readFileSync(join(options.modulesRoot, 'modules.dep'), 'utf8');
  const { ordered, missing } = moduleClosure(modulesDep, INITRAMFS_MODULES);
  const builtin = readFileSync(join(options.modulesRoot, 'modules.builtin'), 'utf8');
  const absent = missing.filter((name) => !builtin.split('\n').some((line) => line.replace(/-/g, '_').endsWith(`/${name.replace(/-/g, '_')}.ko`)));
  if (absent.length > 0) throw new Error(`kernel modules not found for the initramfs: ${absent.join(', ')}`);
  const flat = ordered.map((path) => path.split('/').pop() ?? path);
  const entries: CpioEntry[] = [
    { kind: 'dir', path: 'bin' },
    { kind: 'file', path: 'bin/busybox', data: readFileSync(options.busybox), mode: 0o755 },
    { kind: 'file', path: 'init', data: Buffer.from(initScript(flat)), mode: 0o755 },
    ...ordered.map((path): CpioEntry => ({ kind: 'file', path: path.split('/').pop() ?? path, data: readFileSync(join(options.modulesRoot, path)) })),
  ];
  const file = join(options.dir, 'initramfs.cpio');
  writeFileSync(file, cpioNewc(entries));
  return file;
}
