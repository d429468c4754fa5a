/**
 * Pure parts of the e2e harness's guest backends (test/e2e/lib): the initramfs archive and module
 * order, backend/accelerator choice from the environment, and the exact boot command lines.
 * The boots themselves are proven by `npm run test:e2e` (docs/e2e.md).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBackendChoice, resolveAccel, timeScaleOf, TIME_SCALE, type GuestBackend } from '../../e2e/lib/backend';
import { guestCommand } from '../../e2e/lib/guest';
import { cpioNewc, initScript, moduleClosure, ROOT_TAG } from '../../e2e/lib/initramfs';

/** Reads a newc archive back: name, mode, data per entry (a decoder written from the format, not from cpioNewc). */
function readNewc(buf: Buffer): { name: string; mode: number; data: Buffer }[] {
  const out: { name: string; mode: number; data: Buffer }[] = [];
  let at = 0;
  const align = (n: number) => (n + 3) & ~3;
  for (;;) {
    assert.equal(buf.toString('ascii', at, at + 6), '070701', `magic at ${at}`);
    const field = (i: number) => parseInt(buf.toString('ascii', at + 6 + i * 8, at + 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const nameSize = field(11);
    const name = buf.toString('ascii', at + 110, at + 110 + nameSize - 1);
    assert.equal(buf[at + 110 + nameSize - 1], 0, 'name is NUL-terminated');
    const dataAt = align(at + 110 + nameSize);
    if (name === 'TRAILER!!!') return out;
    out.push({ name, mode, data: buf.subarray(dataAt, dataAt + size) });
    at = align(dataAt + size);
  }
}

describe('initramfs', () => {
  test('cpio newc: directories, files with modes, symlinks, 4-byte alignment, trailer', () => {
    const archive = cpioNewc([
      { kind: 'dir', path: '/bin' },
      { kind: 'file', path: 'bin/busybox', data: Buffer.from('ELF...'), mode: 0o755 },
      { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
      { kind: 'file', path: 'init', data: Buffer.from('#!/bin/sh\n') },
    ]);
    assert.equal(archive.length % 4, 0);
    assert.deepEqual(
      readNewc(archive).map((e) => [e.name, e.mode.toString(8), e.data.toString()]),
      [
        ['bin', '40755', ''],
        ['bin/busybox', '100755', 'ELF...'],
        ['bin/sh', '120777', 'busybox'],
        ['init', '100644', '#!/bin/sh\n'],
      ],
    );
  });

  test('module closure: dependencies first, each once; "-" and "_" are one name; unknown names reported', () => {
    const dep = [
      'kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/netfs/netfs.ko kernel/fs/fscache/fscache.ko',
      'kernel/net/9p/9pnet.ko:',
      'kernel/fs/netfs/netfs.ko: kernel/fs/fscache/fscache.ko',
      'kernel/fs/fscache/fscache.ko:',
      'kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio_ring.ko',
      'kernel/drivers/virtio/virtio_ring.ko:',
    ].join('\n');
    const { ordered, missing } = moduleClosure(dep, ['9pnet-virtio', '9p', 'virtio_pci']);
    assert.deepEqual(ordered, [
      'kernel/net/9p/9pnet.ko',
      'kernel/drivers/virtio/virtio_ring.ko',
      'kernel/net/9p/9pnet_virtio.ko',
      'kernel/fs/fscache/fscache.ko',
      'kernel/fs/netfs/netfs.ko',
      'kernel/fs/9p/9p.ko',
    ]);
    assert.deepEqual(missing, ['virtio_pci']);
  });

  test('/init loads the modules in order, mounts the host root read-only over 9p and hands over to E2E_INIT', () => {
    const script = initScript(['a.ko', 'b.ko']);
    assert.match(script, /for m in \/a\.ko \/b\.ko; do insmod/);
    assert.match(script, new RegExp(`mount -t 9p -o [^ ]*,ro,[^ ]* ${ROOT_TAG} /newroot`));
    assert.match(script, /exec switch_root \/newroot "\$\{E2E_INIT/);
  });
});

describe('backend choice', () => {
  test('defaults: auto backend, auto accelerator, the backend\'s own time scale', () => {
    const choice = parseBackendChoice({});
    assert.deepEqual(choice, { backend: 'auto', accel: 'auto' });
    assert.equal(timeScaleOf(choice, 'uml'), TIME_SCALE.uml);
    assert.equal(timeScaleOf(choice, 'qemu', 'tcg'), TIME_SCALE['qemu-tcg']);
    assert.ok(TIME_SCALE['qemu-tcg'] > TIME_SCALE.uml, 'emulation gets more time');
  });

  test('forced values, and bad ones named', () => {
    assert.deepEqual(parseBackendChoice({ E2E_BACKEND: 'qemu', E2E_QEMU_ACCEL: 'tcg', E2E_TIME_SCALE: '6' }), { backend: 'qemu', accel: 'tcg', timeScale: 6 });
    assert.throws(() => parseBackendChoice({ E2E_BACKEND: 'docker' }), /E2E_BACKEND=docker/);
    assert.throws(() => parseBackendChoice({ E2E_QEMU_ACCEL: 'hvf' }), /E2E_QEMU_ACCEL=hvf/);
    assert.throws(() => parseBackendChoice({ E2E_TIME_SCALE: '0' }), /E2E_TIME_SCALE=0/);
  });

  test('accelerator: KVM when usable, TCG otherwise; forcing KVM without it is an error', () => {
    assert.equal(resolveAccel({ backend: 'qemu', accel: 'auto' }, true), 'kvm');
    assert.equal(resolveAccel({ backend: 'qemu', accel: 'auto' }, false), 'tcg');
    assert.equal(resolveAccel({ backend: 'qemu', accel: 'tcg' }, true), 'tcg');
    assert.throws(() => resolveAccel({ backend: 'qemu', accel: 'kvm' }, false), /\/dev\/kvm/);
  });
});

describe('boot command lines', () => {
  const params = { runDir: '/tmp/tb-e2e-x', tap: { name: 'tbeabc', guestCidr: '172.30.9.2/24' }, memoryMb: 1024, maxSeconds: 900, initramfs: '/tmp/tb-e2e-x/initramfs.cpio' };
  const qemuKernel = { packageName: 'linux-image-6.1.0-57-amd64', vmlinuz: '/k/vmlinuz', version: '6.1.0-57-amd64', modulesDir: '/k/lib/modules/6.1.0-57-amd64', busybox: '/b/busybox' };

  test('UML: host root over hostfs, TAP as vec0, the init words', () => {
    const uml: GuestBackend = { name: 'uml', kernel: { binary: '/usr/bin/linux.uml', version: '6.1.176', modulesDir: '/m' }, timeScale: 1 };
    const { file, args } = guestCommand(uml, params);
    assert.equal(file, '/usr/bin/linux.uml');
    for (const word of ['rootfstype=hostfs', 'rootflags=/', 'ro', 'vec0:transport=tap,ifname=tbeabc', 'E2E_RUNFS=hostfs', 'E2E_BACKEND=uml', 'E2E_SCALE=1']) assert.ok(args.includes(word), word);
  });

  test('QEMU TCG: Debian kernel + initramfs, host root read-only over virtio-9p, run dir writable, TAP NIC, scaled watchdog word', () => {
    const qemu: GuestBackend = { name: 'qemu', kernel: qemuKernel, accel: 'tcg', smp: 2, timeScale: 4 };
    const { file, args } = guestCommand(qemu, params);
    assert.equal(file, 'qemu-system-x86_64');
    const after = (flag: string) => args.filter((_, i) => args[i - 1] === flag);
    assert.deepEqual(after('-machine'), ['q35,accel=tcg']);
    assert.deepEqual(after('-cpu'), ['max']);
    assert.deepEqual(after('-kernel'), ['/k/vmlinuz']);
    assert.deepEqual(after('-initrd'), ['/tmp/tb-e2e-x/initramfs.cpio']);
    const [root, run] = after('-fsdev');
    assert.match(root ?? '', /^local,id=hostroot,path=\/,security_model=passthrough,readonly=on/);
    assert.match(run ?? '', /^local,id=e2erun,path=\/tmp\/tb-e2e-x,security_model=passthrough/);
    assert.doesNotMatch(run ?? '', /readonly/);
    assert.deepEqual(after('-netdev'), ['tap,id=n0,ifname=tbeabc,script=no,downscript=no']);
    const append = after('-append')[0] ?? '';
    for (const word of ['console=ttyS0', 'E2E_BACKEND=qemu', 'E2E_SCALE=4', 'E2E_ADDR=172.30.9.2/24']) assert.ok(append.split(' ').includes(word), word);
    assert.match(append, /E2E_RUNFS=9p:e2erun:trans=virtio/);
  });

  test('QEMU KVM uses the host CPU model; the bare probe has no TAP and no run share', () => {
    const kvm: GuestBackend = { name: 'qemu', kernel: qemuKernel, accel: 'kvm', smp: 2, timeScale: 1 };
    const { args } = guestCommand(kvm, { ...params, bare: true, init: '/probe.sh' });
    assert.ok(args.includes('q35,accel=kvm') && args.includes('host'));
    assert.ok(!args.includes('-netdev') && !args.some((a) => a.startsWith('local,id=e2erun')));
    assert.ok((args[args.indexOf('-append') + 1] ?? '').includes('E2E_INIT=/probe.sh'));
  });
});
