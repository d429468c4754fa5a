/**
 * Which guest kernel runs the real clients: User-Mode Linux where it boots (fast, no
 * virtualisation needed), else QEMU with Debian's stock kernel (KVM when /dev/kvm is usable, else
 * TCG emulation). `E2E_BACKEND=uml|qemu` forces one, `E2E_QEMU_ACCEL=kvm|tcg` forces the
 * accelerator. Each backend has a time scale: every timeout and wait of the suite is multiplied
 * by it, so a slow guest is given time instead of failing. Pure parts here; run.ts probes.
 */
import { constants, accessSync } from 'node:fs';
import { E2eError } from './errors';
import type { UmlKernel } from './host-prereqs';
import type { QemuKernel } from './qemu-kernel';

export type BackendRequest = 'auto' | 'uml' | 'qemu';
export type QemuAccel = 'kvm' | 'tcg';

export interface BackendChoice {
  readonly backend: BackendRequest;
  readonly accel: 'auto' | QemuAccel;
  /** E2E_TIME_SCALE: overrides the backend's own factor (a slower or busier host). */
  readonly timeScale?: number;
}

export type GuestBackend =
  | { readonly name: 'uml'; readonly kernel: UmlKernel; readonly timeScale: number }
  | { readonly name: 'qemu'; readonly kernel: QemuKernel; readonly accel: QemuAccel; readonly smp: number; readonly timeScale: number };

/**
 * Time factors, measured on a loaded 2-core host (docs/e2e.md): UML is the reference; QEMU with
 * KVM runs at about the same pace; TCG emulates every instruction (Node about 10x slower, the C
 * clients and kernel less so), measured at about 3-4x the UML wall time per step.
 */
export const TIME_SCALE: Readonly<Record<'uml' | 'qemu-kvm' | 'qemu-tcg', number>> = { uml: 1, 'qemu-kvm': 1, 'qemu-tcg': 4 };

/** Reads E2E_BACKEND, E2E_QEMU_ACCEL and E2E_TIME_SCALE; a bad value is an error naming the variable. */
export function parseBackendChoice(env: Readonly<Record<string, string | undefined>>): BackendChoice {
  const backend = env.E2E_BACKEND || 'auto';
  if (backend !== 'auto' && backend !== 'uml' && backend !== 'qemu') throw new E2eError(`E2E_BACKEND=${backend}: expected uml, qemu or auto`);
  const accel = env.E2E_QEMU_ACCEL || 'auto';
  if (accel !== 'auto' && accel !== 'kvm' && accel !== 'tcg') throw new E2eError(`E2E_QEMU_ACCEL=${accel}: expected kvm, tcg or auto`);
  const scaleText = env.E2E_TIME_SCALE;
  const timeScale = scaleText ? Number(scaleText) : undefined;
  if (timeScale !== undefined && !(timeScale >= 0.5 && timeScale <= 50)) throw new E2eError(`E2E_TIME_SCALE=${scaleText}: expected a number from 0.5 to 50`);
  return { backend, accel, ...(timeScale === undefined ? {} : { timeScale }) };
}

/** KVM is usable when /dev/kvm can be opened read-write. */
export function kvmUsable(path = '/dev/kvm'): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export function resolveAccel(choice: BackendChoice, kvm: boolean): QemuAccel {
  if (choice.accel === 'kvm' && !kvm) throw new E2eError('E2E_QEMU_ACCEL=kvm but /dev/kvm is not usable here');
  return choice.accel === 'auto' ? (kvm ? 'kvm' : 'tcg') : choice.accel;
}

export function timeScaleOf(choice: BackendChoice, name: 'uml' | 'qemu', accel?: QemuAccel): number {
  return choice.timeScale ?? (name === 'uml' ? TIME_SCALE.uml : TIME_SCALE[`qemu-${accel ?? 'tcg'}`]);
}

export function describeBackend(b: GuestBackend): string {
  return b.name === 'uml'
    ? `User-Mode Linux ${b.kernel.version}`
    : `QEMU ${b.accel.toUpperCase()} (${b.smp} vCPU), Debian kernel ${b.kernel.version}${b.timeScale === 1 ? '' : `, timeouts x${b.timeScale}`}`;
}
