/**
 * Can QEMU boot Debian's kernel with KVM on this host? /dev/kvm is not enough: a nested host may
 * offer a KVM that runs only guests built for it (seen here: `kvm_pvm`, the pagetable-based
 * nested KVM of some cloud sandboxes, where a stock kernel hangs right after its decompressor).
 * The probe boots the real guest set-up (initramfs, 9p root) with guest/probe-init.sh, which
 * runs Node and powers off; with KVM that takes a few seconds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { GuestBackend } from './backend';
import { guestCommand } from './guest';
import { writeInitramfs } from './initramfs';

const PROBE_INIT = resolve(import.meta.dirname, '../guest/probe-init.sh');
const PROBE_TIMEOUT_MS = 60_000;

/** Why QEMU with this accelerator cannot run the guest here, or undefined when it can. */
export function qemuUnsupportedReason(backend: Extract<GuestBackend, { name: 'qemu' }>, scratchDir: string): string | undefined {
  const dir = join(scratchDir, 'qemu-probe');
  mkdirSync(dir, { recursive: true });
  const initramfs = writeInitramfs({ dir, busybox: backend.kernel.busybox, modulesRoot: backend.kernel.modulesDir });
  const command = guestCommand(backend, { runDir: dir, tap: { name: 'probe', guestCidr: '0.0.0.0/0' }, memoryMb: 512, maxSeconds: 60, initramfs, init: PROBE_INIT, bare: true });
  const probe = spawnSync(command.file, command.args, { encoding: 'utf8', timeout: PROBE_TIMEOUT_MS, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'] });
  const output = `${probe.stdout ?? ''}${probe.stderr ?? ''}`;
  if (output.includes('E2E-PROBE-NODE-OK')) return undefined;
  const pvm = backend.accel === 'kvm' && existsSync('/sys/module/kvm_pvm') ? ' (this host\'s KVM is kvm_pvm, which runs only PVM-enabled guest kernels)' : '';
  const line = output.split('\n').map((l) => l.trim()).find((l) => /error|panic|Assertion|FATAL/i.test(l));
  const why = line ?? (probe.error ? `no guest output within ${PROBE_TIMEOUT_MS / 1000} s` : `QEMU exited (${probe.status}) before the guest ran Node`);
  return `${why}${pvm}`;
}
