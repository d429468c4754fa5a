/** What a test with a real TUN device in a network namespace needs of this host. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Why a real TUN test cannot run here (root, /dev/net/tun, iproute2), or undefined when it can. */
export function realTunUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (CAP_NET_ADMIN for TUN and ip netns)';
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing';
  if (spawnSync('ip', ['-V']).status !== 0) return 'iproute2 (ip) is not installed';
  return undefined;
}
