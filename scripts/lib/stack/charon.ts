/**
 * strongSwan's charon for `npm start -- --ipsec`: the built-in agent drives it over VICI (loads the
 * fleet PSK and its IKEv1 connection), exactly as on a VM. A charon already running on this host
 * (the system service, whose VICI socket answers) is used as it is; otherwise one is started as an
 * owned process with its own configuration and VICI socket under <DATA_DIR>/run, in a private
 * mount namespace so its pid file cannot clash with a system charon's.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { spawnOwned, type OwnedProcess } from '../owned-process';

export const CHARON_BINARY = '/usr/lib/ipsec/charon';
const VICI_PLUGIN = '/usr/lib/ipsec/plugins/libstrongswan-vici.so';
const SYSTEM_VICI_SOCKET = '/var/run/charon.vici';

export interface Charon {
  readonly viciSocket: string;
  /** 'system' when an already running charon is used. */
  readonly owner: 'stack' | 'system';
  readonly logFile?: string;
  stop(): Promise<void>;
}

/** Why --ipsec cannot be offered here, or undefined when it can. */
export function ipsecUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (charon installs SAs and binds udp/500 and udp/4500)';
  if (!existsSync(CHARON_BINARY) || !existsSync(VICI_PLUGIN)) {
    return 'strongSwan is not installed: sudo apt-get install strongswan-charon strongswan-swanctl libstrongswan-standard-plugins';
  }
  return undefined;
}

const answers = (socket: string) =>
  new Promise<boolean>((done) => {
    const probe = connect(socket);
    probe.once('connect', () => (probe.destroy(), done(true)));
    probe.once('error', () => done(false));
  });

/** The configuration of a charon of our own (plugins for IKEv1 PSK, NAT-T and the agent's VICI use). */
function strongswanConf(runDir: string, viciSocket: string, logFile: string): string {
  return `charon {
  load = random nonce openssl pem pkcs1 x509 revocation constraints pubkey socket-default kernel-netlink vici connmark
  install_routes = no
  install_virtual_ip = no
  filelog {
    stack { path = ${logFile}
      time_format = %F %T
      default = 1
    }
  }
  plugins {
    vici { socket = unix://${viciSocket} }
  }
}
# runtime files of this charon live in ${runDir}
`;
}

export async function startCharon(options: { dataDir: string; startTimeoutMs?: number }): Promise<Charon> {
  if (await answers(SYSTEM_VICI_SOCKET)) return { viciSocket: SYSTEM_VICI_SOCKET, owner: 'system', stop: async () => {} };
  const runDir = join(options.dataDir, 'run');
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const viciSocket = join(runDir, 'charon.vici');
  const logFile = join(options.dataDir, 'logs', 'charon.log');
  const conf = join(runDir, 'strongswan.conf');
  writeFileSync(conf, strongswanConf(runDir, viciSocket, logFile));
  const owned: OwnedProcess = spawnOwned(
    'unshare',
    ['--mount', '--', 'sh', '-c', `mount -t tmpfs tmpfs /run && mkdir -p /run/strongswan && exec ${CHARON_BINARY}`],
    { env: { ...process.env, STRONGSWAN_CONF: conf } },
  );
  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  while (!(await answers(viciSocket))) {
    if (owned.gone() || Date.now() > deadline) {
      await owned.stop(2_000);
      const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ') : '(no log)';
      throw new Error(`charon did not open its VICI socket ${viciSocket}: ${tail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { viciSocket, owner: 'stack', logFile, stop: async () => void (await owned.stop(5_000)) };
}
