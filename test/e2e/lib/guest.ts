/**
 * Boots the guest once per run (User-Mode Linux, or QEMU with Debian's kernel: backend.ts) and
 * drives it: `sh(ns, script)` runs a shell script in one guest namespace through the guest's exec
 * server (guest/exec-server.mjs) over the TAP. Command timeouts are multiplied by the backend's
 * time scale, which guest scripts also see as $E2E_SCALE.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GuestBackend } from './backend';
import { E2eError } from './errors';
import { NINEP_OPTIONS, ROOT_TAG, RUN_TAG, writeInitramfs } from './initramfs';
import type { HostTap } from './tap';
import type { GuestNamespace } from './topology';

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  readonly timedOut: boolean;
}

export interface Guest {
  /** Runs `script` with sh in namespace `ns` (its own net + mount namespace). Never throws on a non-zero exit. */
  sh(ns: GuestNamespace, script: string, options?: { timeoutMs?: number; stdin?: string }): Promise<ExecResult>;
  /** Like sh, but a non-zero exit is an E2eError carrying the output. */
  must(ns: GuestNamespace, script: string, options?: { timeoutMs?: number; stdin?: string }): Promise<string>;
  /** Writes a file inside the namespace's private view (e.g. /etc/ppp/chap-secrets). */
  writeFile(ns: GuestNamespace, path: string, content: string, mode?: string): Promise<void>;
  readonly bootMs: number;
  /** Every timeout of the suite is multiplied by this (1 for UML; backend.ts). */
  readonly scale: number;
  /** Asks the guest to power off; kills the UML process group if it does not within the timeout. */
  shutdown(): Promise<void>;
  /** Kills the UML process group at once (second Ctrl-C). */
  kill(): void;
}

export interface BootOptions {
  readonly backend: GuestBackend;
  readonly runDir: string;
  readonly tap: HostTap;
  readonly memoryMb?: number;
  readonly maxSeconds?: number;
  readonly bootTimeoutMs?: number;
}

const GUEST_DIR = resolve(import.meta.dirname, '../guest');
const EXEC_PORT = 7070;

/** strongswan.conf shared by every side: logs to the side's private /run/log, no syslog in the guest. */
const STRONGSWAN_CONF = `charon {
    load_modular = yes
    plugins {
        include strongswan.d/charon/*.conf
        # forecast (libcharon-extra-plugins, if installed) would override connmark's marks; the
        # agent then refuses %unique marks. Off, so the suite always exercises connmark.
        forecast {
            load = no
        }
    }
    filelog {
        charon {
            path = /run/log/charon.log
            time_format = %T
            default = 1
            ike = 2
            cfg = 2
            knl = 1
            flush_line = yes
        }
    }
}
include strongswan.d/*.conf
swanctl {
    load = pem pkcs1 pkcs8 x509 revocation constraints pubkey openssl random
}
`;

function prepareRunDir(runDir: string, backend: GuestBackend): string {
  for (const dir of ['logs', 'conf', 'uml', 'modroot/lib/modules']) mkdirSync(join(runDir, dir), { recursive: true });
  const link = join(runDir, 'modroot/lib/modules', backend.kernel.version);
  if (!existsSync(link)) symlinkSync(backend.kernel.modulesDir, link);
  writeFileSync(join(runDir, 'conf/strongswan.conf'), STRONGSWAN_CONF);
  const token = randomBytes(16).toString('hex');
  writeFileSync(join(runDir, 'token'), token, { mode: 0o600 });
  return token;
}

/** Words for the guest's init (kernel command line; they arrive in its environment). */
export interface GuestParams {
  readonly runDir: string;
  readonly tap: Pick<HostTap, 'name' | 'guestCidr'>;
  readonly memoryMb: number;
  readonly maxSeconds: number;
  readonly initramfs?: string;
  /** Another init than guest/init.sh (the boot probes). */
  readonly init?: string;
  /** Without the TAP and the run directory share (the boot probes). */
  readonly bare?: boolean;
}

function initEnv(backend: GuestBackend, p: GuestParams): string[] {
  return [
    `E2E_DIR=${p.runDir}`,
    `E2E_RUNFS=${backend.name === 'uml' ? 'hostfs' : `9p:${RUN_TAG}:${NINEP_OPTIONS}`}`,
    `E2E_BACKEND=${backend.name}`,
    `E2E_ADDR=${p.tap.guestCidr}`,
    `E2E_PORT=${EXEC_PORT}`,
    `E2E_NODE=${process.execPath}`,
    `E2E_MAX=${p.maxSeconds}`,
    `E2E_SCALE=${Math.ceil(backend.timeScale)}`,
  ];
}

/** The program and arguments that boot the guest (pure, for tests). */
export function guestCommand(backend: GuestBackend, p: GuestParams): { file: string; args: string[] } {
  const init = p.init ?? join(GUEST_DIR, 'init.sh');
  if (backend.name === 'uml') {
    return {
      file: backend.kernel.binary,
      args: [
        `mem=${p.memoryMb}M`,
        `umid=${p.tap.name}`,
        `uml_dir=${join(p.runDir, 'uml')}`,
        'root=/dev/root',
        'rootfstype=hostfs',
        'rootflags=/',
        'ro',
        `init=${init}`,
        'con=null',
        'con0=fd:0,fd:1',
        `vec0:transport=tap,ifname=${p.tap.name}`,
        ...initEnv(backend, p),
      ],
    };
  }
  if (!p.initramfs) throw new E2eError('QEMU needs an initramfs');
  const kvm = backend.accel === 'kvm';
  return {
    file: 'qemu-system-x86_64',
    args: [
      '-name', `tb-e2e-${p.tap.name}`,
      '-machine', `q35,accel=${backend.accel}`,
      '-cpu', kvm ? 'host' : 'max',
      '-smp', String(backend.smp),
      '-m', `${p.memoryMb}`,
      '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
      '-serial', 'stdio',
      '-kernel', backend.kernel.vmlinuz,
      '-initrd', p.initramfs,
      // panic=-1: reboot at once on a panic, which -no-reboot turns into QEMU exiting.
      '-append', ['console=ttyS0', 'panic=-1', 'quiet', `E2E_INIT=${init}`, ...initEnv(backend, p)].join(' '),
      // The host root, read-only; multidevs=remap keeps inode numbers unique across host mounts.
      '-fsdev', `local,id=${ROOT_TAG},path=/,security_model=passthrough,readonly=on,multidevs=remap`,
      '-device', `virtio-9p-pci,fsdev=${ROOT_TAG},mount_tag=${ROOT_TAG}`,
      ...(p.bare
        ? []
        : [
            '-fsdev', `local,id=${RUN_TAG},path=${p.runDir},security_model=passthrough,multidevs=remap`,
            '-device', `virtio-9p-pci,fsdev=${RUN_TAG},mount_tag=${RUN_TAG}`,
            '-netdev', `tap,id=n0,ifname=${p.tap.name},script=no,downscript=no`,
            '-device', 'virtio-net-pci,netdev=n0',
          ]),
    ],
  };
}

export async function bootGuest(options: BootOptions): Promise<Guest> {
  const { backend, runDir, tap } = options;
  const scale = backend.timeScale;
  const token = prepareRunDir(runDir, backend);
  const guestAddress = tap.guestCidr.split('/')[0] ?? '';
  const console = openSync(join(runDir, 'logs/console.log'), 'a');
  const initramfs =
    backend.name === 'qemu' ? writeInitramfs({ dir: runDir, busybox: backend.kernel.busybox, modulesRoot: backend.kernel.modulesDir }) : undefined;
  const command = guestCommand(backend, {
    runDir,
    tap,
    memoryMb: options.memoryMb ?? (backend.name === 'uml' ? 1024 : 2048),
    maxSeconds: Math.ceil((options.maxSeconds ?? 1500) * scale),
    ...(initramfs ? { initramfs } : {}),
  });
  const started = Date.now();
  const vm: ChildProcess = spawn(command.file, command.args, { detached: true, stdio: ['ignore', console, console] });
  let exited = false;
  vm.on('exit', () => {
    exited = true;
  });
  const killGroup = () => {
    try {
      if (vm.pid) process.kill(-vm.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };

  const base = `http://${guestAddress}:${EXEC_PORT}`;
  const post = async (path: string, body: unknown, timeoutMs: number): Promise<Response> =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'x-e2e-token': token, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });

  const deadline = started + (options.bootTimeoutMs ?? 90_000) * scale;
  for (;;) {
    if (exited || Date.now() > deadline) {
      killGroup();
      const status = readTail(join(runDir, 'guest-status')) || readTail(join(runDir, 'logs/guest-init.log')) || readTail(join(runDir, 'logs/console.log'));
      throw new E2eError(`guest did not come up (${exited ? `${backend.name} exited` : 'timeout'}): ${status}`);
    }
    try {
      const response = await post('/ping', {}, 1000);
      if (response.ok) break;
    } catch {
      // not up yet
    }
    await sleep(250);
  }
  const bootMs = Date.now() - started;

  const guest: Guest = {
    bootMs,
    scale,
    async sh(ns, script, opts = {}) {
      const timeoutMs = Math.ceil((opts.timeoutMs ?? 30_000) * scale);
      const response = await post('/exec', { ns, sh: script, stdin: opts.stdin, timeoutMs }, timeoutMs + 10_000);
      if (!response.ok) throw new E2eError(`exec server: HTTP ${response.status} ${await response.text()}`);
      return (await response.json()) as ExecResult;
    },
    async must(ns, script, opts) {
      const result = await guest.sh(ns, script, opts);
      if (result.code !== 0) {
        const why = result.timedOut ? 'timed out' : `exit ${result.code}`;
        throw new E2eError(`[${ns}] ${firstLine(script)}: ${why}\n${(result.stdout + result.stderr).trim().slice(-1500)}`);
      }
      return result.stdout;
    },
    async writeFile(ns, path, content, mode = '644') {
      await guest.must(ns, `cat > '${path}' && chmod ${mode} '${path}'`, { stdin: content });
    },
    async shutdown() {
      if (exited) return;
      try {
        await post('/shutdown', {}, 3000);
      } catch {
        // fall through to the kill below
      }
      const until = Date.now() + 15_000 * scale;
      while (!exited && Date.now() < until) await sleep(100);
      if (!exited) killGroup();
    },
    kill: killGroup,
  };
  return guest;
}

function firstLine(text: string): string {
  return (text.trim().split('\n')[0] ?? '').slice(0, 120);
}

function readTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}
