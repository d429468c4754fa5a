/**
 * The guest's fixed stage, built by `guest/init.sh` (keep the two in step). Only the host TAP
 * subnet changes per run; everything else lives inside the guest and cannot collide.
 */
export type GuestNamespace = 'server' | 'c1' | 'c2' | 'c3' | 'nat' | 'n1' | 'n2' | 'n3' | 'igw' | 'cloud' | 'guest';

/** The agent's "public" address on the guest's internet bridge. */
export const SERVER_ADDRESS = '198.51.100.1';
/** The cloud agent's public address: the `igw` namespace maps it 1:1 to CLOUD_PRIVATE_ADDRESS. */
export const CLOUD_PUBLIC_ADDRESS = '198.51.100.2';
/** The only address of the `cloud` namespace (the VM's private address in its VPC subnet). */
export const CLOUD_PRIVATE_ADDRESS = '10.99.0.10';
/** NAT box's outside address: what the server sees for n1..n3. */
export const NAT_OUTSIDE_ADDRESS = '198.51.100.100';

export const CLIENT_ADDRESSES: Readonly<Record<string, string>> = {
  c1: '198.51.100.11',
  c2: '198.51.100.12',
  c3: '198.51.100.13',
  n1: '10.77.0.11',
  n2: '10.77.0.12',
  n3: '10.77.0.13',
};

/** Tenant pool handed out by the broker; the agent's PPP address is its gateway (first host). */
export const POOL_CIDR = '10.8.0.0/24';
export const POOL_GATEWAY = '10.8.0.1';
