/**
 * The host TAP device the guest's vec0 attaches to. Name and /24 are random per run (private
 * 172.30.x.0/24, skipped if any host route already overlaps), so parallel runs cannot collide.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { E2eError } from './errors';

export interface HostTap {
  readonly name: string;
  readonly hostAddress: string;
  /** Guest address with prefix, e.g. 172.30.7.2/24. */
  readonly guestCidr: string;
  remove(): void;
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function createTap(): HostTap {
  const routes = ip('-4', 'route', 'show', 'table', 'all');
  let third = -1;
  for (let attempt = 0; attempt < 50 && third < 0; attempt++) {
    const candidate = randomInt(0, 256);
    if (!routes.includes(`172.30.${candidate}.`)) third = candidate;
  }
  if (third < 0) throw new E2eError('no free 172.30.x.0/24 for the TAP device');
  const name = `tbe${randomBytes(3).toString('hex')}`;
  const hostAddress = `172.30.${third}.1`;
  try {
    ip('tuntap', 'add', 'dev', name, 'mode', 'tap');
    execFileSync('sysctl', ['-qw', `net.ipv6.conf.${name}.disable_ipv6=1`]);
    ip('addr', 'add', `${hostAddress}/24`, 'dev', name);
    ip('link', 'set', name, 'up');
  } catch (error) {
    removeLink(name);
    throw new E2eError(`creating TAP ${name}`, { cause: error });
  }
  return { name, hostAddress, guestCidr: `172.30.${third}.2/24`, remove: () => removeLink(name) };
}

function removeLink(name: string): void {
  try {
    ip('link', 'del', name);
  } catch {
    // already gone
  }
}
