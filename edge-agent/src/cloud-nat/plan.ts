/**
 * Cloud 1:1 NAT mode, the pure part: whether it applies, and the exact host commands that set it
 * up and remove it. No I/O here (host.ts runs the steps).
 *
 * Why: behind a cloud's 1:1 NAT (an EC2 public IP) the VM only has its private address, so
 * charon computes its IKE NAT-D hash (RFC 3947 §3) over private:500 while the client hashed
 * public:500, and the client concludes "the server is behind NAT". Windows then refuses NAT-T
 * (error 809) unless every user edits the registry (Microsoft KB 926179). With the public address
 * as a local address (on a dummy interface; charon's kernel-netlink ignores loopback addresses)
 * and inbound IKE, NAT-T and ESP destination-NATed from the private address to it, charon sees
 * and hashes public:500 and the client sees no NAT on our side (docs/ipsec.md "Cloud 1:1 NAT").
 *
 * Tool: iptables (the `nat` table, own chains). It works with both iptables back ends (nft and
 * legacy); the kernel's nftables `ip` family is missing on some kernels (Debian's User-Mode Linux).
 */
import { isIPv4 } from 'node:net';

export type CloudNatMode = 'auto' | 'on' | 'off';

/** The dummy interface that carries the public address. */
export const CLOUD_NAT_LINK = 'tb-public';
/** iptables chains in the `nat` table, jumped to from PREROUTING / POSTROUTING. */
export const CLOUD_NAT_CHAIN_IN = 'TB-CLOUD-NAT-IN';
export const CLOUD_NAT_CHAIN_OUT = 'TB-CLOUD-NAT-OUT';
/** IKE (RFC 2409) and NAT-T (RFC 3947/3948) ports. */
export const IKE_PORTS = [500, 4500] as const;

export interface LocalAddress {
  readonly ifname: string;
  readonly address: string;
}

/** What the host looks like: `ip -4 address` and the IPv4 default route. */
export interface HostFacts {
  readonly addresses: readonly LocalAddress[];
  readonly defaultRoute?: { readonly ifname: string; readonly prefsrc?: string };
}

export interface CloudNatPlan {
  readonly publicAddress: string;
  /** The VM's own address the cloud's NAT forwards to (on the default route's interface). */
  readonly privateAddress: string;
  readonly privateInterface: string;
}

export type CloudNatDecision =
  | { readonly enabled: true; readonly plan: CloudNatPlan }
  | { readonly enabled: false; readonly reason: string }
  /** CLOUD_NAT=on but the host cannot run it: the agent must not start. */
  | { readonly enabled: false; readonly error: string };

export interface CloudNatInput {
  readonly mode: CloudNatMode;
  readonly ipsec: boolean;
  readonly publicAddress?: string;
  /** ALLOW_PLAIN_L2TP: plain L2TP comes to the private address, which the mode's socket (on the public one) cannot serve. */
  readonly allowPlainL2tp: boolean;
}

/**
 * `auto` turns the mode on exactly when PUBLIC_ADDRESS is an IPv4 address that is not a local
 * address of this host (ignoring our own dummy link, which a crashed run may have left), and the
 * host has an IPv4 default route with an address: a 1:1 NAT in front of us. `on` requires the same
 * and fails loudly otherwise; `off` never touches the host.
 */
export function decideCloudNat(input: CloudNatInput, facts: HostFacts): CloudNatDecision {
  const early = decideFromInput(input);
  if (early) return early;
  const no = refusal(input.mode);
  const publicAddress = input.publicAddress ?? '';
  const owner = facts.addresses.find((a) => a.address === publicAddress && a.ifname !== CLOUD_NAT_LINK);
  if (owner) return no(`PUBLIC_ADDRESS ${publicAddress} is a local address (on ${owner.ifname}): no NAT in front of this host`);
  const route = facts.defaultRoute;
  if (!route) return no('no IPv4 default route to find the private address by');
  const onRoute = facts.addresses.filter((a) => a.ifname === route.ifname && a.address !== publicAddress);
  const privateAddress = onRoute.find((a) => a.address === route.prefsrc)?.address ?? onRoute[0]?.address;
  if (privateAddress === undefined) return no(`the default route's interface ${route.ifname} has no IPv4 address`);
  return { enabled: true, plan: { publicAddress, privateAddress, privateInterface: route.ifname } };
}

/** The decision when the settings alone make it (no need to look at the host), else undefined. */
export function decideFromInput(input: CloudNatInput): CloudNatDecision | undefined {
  if (input.mode === 'off') return { enabled: false, reason: 'CLOUD_NAT=off' };
  const no = refusal(input.mode);
  if (!input.ipsec) return no('IPSEC=off (the mode only changes what IKE sees)');
  if (input.allowPlainL2tp) return no('ALLOW_PLAIN_L2TP=true (plain L2TP arrives at the private address; in this mode L2TP is bound to the public one)');
  if (input.publicAddress === undefined) return no('PUBLIC_ADDRESS is not set');
  if (!isIPv4(input.publicAddress)) return no(`PUBLIC_ADDRESS ${input.publicAddress} is not an IPv4 address`);
  return undefined;
}

/** `auto` quietly stays off; `on` turns the same reason into an error. */
function refusal(mode: CloudNatMode): (why: string) => CloudNatDecision {
  return (why) => (mode === 'on' ? { enabled: false, error: `CLOUD_NAT=on: ${why}` } : { enabled: false, reason: why });
}

/** One host command. `tolerate`: failures that mean "already so" (set-up) or "already gone" (removal). */
export type HostStep =
  | { readonly kind: 'run'; readonly tool: 'ip' | 'iptables'; readonly args: readonly string[]; readonly tolerate?: 'exists' | 'missing' }
  /** Runs `add` unless `check` succeeds (iptables -C): an idempotent insert. */
  | { readonly kind: 'ensure'; readonly tool: 'iptables'; readonly check: readonly string[]; readonly add: readonly string[] }
  /** Runs `args` until it fails as "missing" (removes every copy of a rule), at most `max` times. */
  | { readonly kind: 'drain'; readonly tool: 'iptables'; readonly args: readonly string[]; readonly max: number };

/** stderr of a command that failed because the thing already exists / does not exist (iptables nft and legacy, iproute2). */
export const ALREADY_EXISTS = /already exists|File exists/i;
export const ALREADY_MISSING = /No chain\/target\/match|Bad rule|does not exist|Couldn't load target|Cannot find device|Cannot assign requested address|No such device/i;

const nat = (...args: string[]): string[] => ['-w', '-t', 'nat', ...args];

/**
 * The DNAT rules: IKE, NAT-T and ESP sent to the private address go to the public one. Not L2TP:
 * protected L2TP already carries the public address after decryption (its outer header was
 * DNATed), and DNATing a stray plaintext datagram from the same client port (sent after its SA was
 * deleted) would leave a conntrack entry whose reply tuple equals the next protected session's,
 * which conntrack then resolves by rewriting that session's source port (seen in the e2e suite:
 * the reconnecting client refused as "L2TP outside IPsec").
 */
export function inboundRules(plan: CloudNatPlan): string[][] {
  const to = ['-j', 'DNAT', '--to-destination', plan.publicAddress];
  return [
    ...IKE_PORTS.map((port) => ['-d', plan.privateAddress, '-p', 'udp', '--dport', String(port), ...to]),
    // Raw ESP (IP protocol 50) from clients that are not behind a NAT.
    ['-d', plan.privateAddress, '-p', 'esp', ...to],
  ];
}

/**
 * SNAT for IKE, NAT-T and ESP that charon starts itself from the public address after conntrack
 * forgot the inbound flow (DPD, rekeying, a DELETE after a long idle time): without it such a
 * packet would leave with a source the cloud drops. Replies inside a tracked flow are reversed by
 * conntrack and never reach these rules. Never plaintext L2TP: a datagram from public:1701 that
 * missed its SA must not be made deliverable.
 */
export function outboundRules(plan: CloudNatPlan): string[][] {
  const to = ['-j', 'SNAT', '--to-source', plan.privateAddress];
  const from = ['-s', plan.publicAddress, '-o', plan.privateInterface];
  return [...IKE_PORTS.map((port) => [...from, '-p', 'udp', '--sport', String(port), ...to]), [...from, '-p', 'esp', ...to]];
}

/** Set-up, idempotent: safe to run again over a previous run's leftovers (a crash, SIGKILL). */
export function setUpSteps(plan: CloudNatPlan): HostStep[] {
  const chains: [string, string, string[][]][] = [
    [CLOUD_NAT_CHAIN_IN, 'PREROUTING', inboundRules(plan)],
    [CLOUD_NAT_CHAIN_OUT, 'POSTROUTING', outboundRules(plan)],
  ];
  return [
    { kind: 'run', tool: 'ip', args: ['link', 'add', CLOUD_NAT_LINK, 'type', 'dummy'], tolerate: 'exists' },
    // `replace` keeps one copy; a changed public address (new Elastic IP) is flushed first.
    { kind: 'run', tool: 'ip', args: ['address', 'flush', 'dev', CLOUD_NAT_LINK] },
    { kind: 'run', tool: 'ip', args: ['address', 'replace', `${plan.publicAddress}/32`, 'dev', CLOUD_NAT_LINK] },
    { kind: 'run', tool: 'ip', args: ['link', 'set', CLOUD_NAT_LINK, 'up'] },
    ...chains.flatMap(([chain, hook, rules]): HostStep[] => [
      { kind: 'run', tool: 'iptables', args: nat('-N', chain), tolerate: 'exists' },
      // Flushed and refilled: a restart with other addresses leaves no stale rule behind.
      { kind: 'run', tool: 'iptables', args: nat('-F', chain) },
      ...rules.map((rule): HostStep => ({ kind: 'run', tool: 'iptables', args: nat('-A', chain, ...rule) })),
      { kind: 'ensure', tool: 'iptables', check: nat('-C', hook, '-j', chain), add: nat('-I', hook, '1', '-j', chain) },
    ]),
  ];
}

/** Removal at a clean stop; every step tolerates "already gone", so it is idempotent too. */
export function tearDownSteps(): HostStep[] {
  return [
    ...[
      [CLOUD_NAT_CHAIN_IN, 'PREROUTING'],
      [CLOUD_NAT_CHAIN_OUT, 'POSTROUTING'],
    ].flatMap(([chain = '', hook = '']): HostStep[] => [
      { kind: 'drain', tool: 'iptables', args: nat('-D', hook, '-j', chain), max: 16 },
      { kind: 'run', tool: 'iptables', args: nat('-F', chain), tolerate: 'missing' },
      { kind: 'run', tool: 'iptables', args: nat('-X', chain), tolerate: 'missing' },
    ]),
    { kind: 'run', tool: 'ip', args: ['link', 'del', CLOUD_NAT_LINK], tolerate: 'missing' },
  ];
}

/** `ip -j -4 address show` → interface/address pairs. Tolerates junk: returns what it understands. */
export function parseAddresses(json: string): LocalAddress[] {
  const out: LocalAddress[] = [];
  for (const link of asArray(safeJson(json))) {
    const ifname = typeof link?.ifname === 'string' ? link.ifname : undefined;
    if (!ifname) continue;
    for (const info of asArray(link.addr_info)) {
      if (info?.family === 'inet' && typeof info.local === 'string') out.push({ ifname, address: info.local });
    }
  }
  return out;
}

/** `ip -j -4 route show default` → the first default route's interface and preferred source. */
export function parseDefaultRoute(json: string): HostFacts['defaultRoute'] {
  const route = asArray(safeJson(json)).find((r) => r?.dst === 'default' && typeof r.dev === 'string');
  if (!route) return undefined;
  return typeof route.prefsrc === 'string' ? { ifname: route.dev, prefsrc: route.prefsrc } : { ifname: route.dev };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function asArray(value: unknown): any[] {
  return Array.isArray(value) ? value : [];
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
