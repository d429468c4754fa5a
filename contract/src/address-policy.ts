/**
 * Which address space a pool may cover. Client addresses are routed into the agent's TUN device
 * on a host that has its own networks, so a pool must never cover space the host itself uses:
 *
 * - never: "this network" 0/8, loopback 127/8, link-local 169.254/16 (instance metadata lives
 *   there), multicast 224/4 and the reserved 240/4 with the limited broadcast 255.255.255.255
 *   (RFC 6890 special-purpose registry);
 * - by default: private space (RFC 1918: 10/8, 172.16/12, 192.168/16) and shared address space
 *   (RFC 6598: 100.64/10);
 * - public (everything else): only when a fleet-scoped operator allows it explicitly, because a
 *   public pool also captures the agent's own traffic to those addresses (its clients', its DNS).
 *
 * Pure and dependency-free: the broker checks pools with it and the edge agent checks the routes
 * it is asked to install with the same table.
 */
import { formatCidr, isCidrError, parseCidr, rangesOverlap, type Cidr } from './ipv4';

export interface NamedBlock {
  readonly cidr: string;
  readonly name: string;
}

/** Never allowed in a pool, whoever asks (RFC 6890 §2.2.2). */
export const FORBIDDEN_BLOCKS: readonly NamedBlock[] = [
  { cidr: '0.0.0.0/8', name: '"this network" (RFC 791)' },
  { cidr: '127.0.0.0/8', name: 'loopback (RFC 1122)' },
  { cidr: '169.254.0.0/16', name: 'link-local (RFC 3927)' },
  { cidr: '224.0.0.0/4', name: 'multicast (RFC 5771)' },
  { cidr: '240.0.0.0/4', name: 'reserved and limited broadcast (RFC 1112, RFC 919)' },
];

/** Allowed by default. */
export const PRIVATE_BLOCKS: readonly NamedBlock[] = [
  { cidr: '10.0.0.0/8', name: 'private (RFC 1918)' },
  { cidr: '172.16.0.0/12', name: 'private (RFC 1918)' },
  { cidr: '192.168.0.0/16', name: 'private (RFC 1918)' },
  { cidr: '100.64.0.0/10', name: 'shared address space (RFC 6598)' },
];

export type AddressClass =
  | { readonly kind: 'private' }
  | { readonly kind: 'public' }
  | { readonly kind: 'forbidden'; readonly block: NamedBlock };

const parsed = (blocks: readonly NamedBlock[]) => blocks.map((b) => ({ block: b, cidr: parseCidr(b.cidr) as Cidr }));
const FORBIDDEN = parsed(FORBIDDEN_BLOCKS);
const PRIVATE = parsed(PRIVATE_BLOCKS);

/**
 * The class of the address range [first, last]: forbidden when it touches a forbidden block,
 * private when it lies wholly inside one private block, public otherwise.
 */
export function classifyRange(first: number, last: number): AddressClass {
  const forbidden = FORBIDDEN.find((f) => rangesOverlap(first, last, f.cidr.network, f.cidr.last));
  if (forbidden) return { kind: 'forbidden', block: forbidden.block };
  if (PRIVATE.some((p) => first >= p.cidr.network && last <= p.cidr.last)) return { kind: 'private' };
  return { kind: 'public' };
}

/** The class of a CIDR block (undefined when it does not parse). */
export function classifyCidr(text: string): AddressClass | undefined {
  const cidr = parseCidr(text);
  return isCidrError(cidr) ? undefined : classifyRange(cidr.network, cidr.last);
}

/**
 * Why a pool block may not be used, or undefined when it may. `allowPublic` is the fleet
 * operator's explicit permission for a public range.
 */
export function poolAddressProblem(cidr: string, options: { readonly allowPublic?: boolean } = {}): string | undefined {
  const cls = classifyCidr(cidr);
  if (cls === undefined) return undefined; // the CIDR check reports malformed blocks
  if (cls.kind === 'forbidden') return `${cidr} overlaps ${cls.block.cidr}, ${cls.block.name}, which a pool may never cover`;
  if (cls.kind === 'public' && !options.allowPublic) {
    return `${cidr} is public address space: pools are private (RFC 1918) or shared (RFC 6598) space unless a fleet operator sets allowPublic`;
  }
  return undefined;
}

/** A block given as text or already parsed; undefined when the text does not parse. */
function blockOf(cidr: string | Cidr): Cidr | undefined {
  if (typeof cidr !== 'string') return cidr;
  const block = parseCidr(cidr);
  return isCidrError(block) ? undefined : block;
}

/** The first of `networks` (CIDR strings; malformed ones ignored) that shares an address with `cidr`. */
export function overlappingNetwork(cidr: string | Cidr, networks: readonly string[]): string | undefined {
  const block = blockOf(cidr);
  if (block === undefined) return undefined;
  return networks.find((text) => {
    const other = parseCidr(text);
    return !isCidrError(other) && rangesOverlap(block.network, block.last, other.network, other.last);
  });
}

/**
 * Why sessions may not get addresses of this pool on an agent with these host networks (undefined:
 * they may). Checked on every start, so a pool created before these rules existed in forbidden
 * space, or one an agent's network came to overlap later, is not used there. Public pools created
 * before are not re-checked: they were allowed then, and public space is harmful only when it is
 * someone's network, which the agents report. `pool` may be the block already parsed (the broker
 * parses each pool once per start; the agent gets the block parsed in the start reply).
 */
export function poolBlockedOnAgent(pool: string | Cidr, agentNetworks: readonly string[] = []): string | undefined {
  const block = blockOf(pool);
  if (block === undefined) return undefined;
  const cidr = typeof pool === 'string' ? pool : formatCidr(block);
  const cls = classifyRange(block.network, block.last);
  if (cls.kind === 'forbidden') return `pool ${cidr} overlaps ${cls.block.cidr}, ${cls.block.name}`;
  const network = overlappingNetwork(block, agentNetworks);
  return network === undefined ? undefined : `pool ${cidr} overlaps ${network}, a network of this agent's host`;
}
