/**
 * The agent's view of established L2TP CHILD_SAs, built from VICI events (`ike-updown`,
 * `child-updown`, `child-rekey`, `ike-rekey`) and `list-sas` snapshots. Pure: `stepSaTable(table,
 * event)` returns the new table and the CHILD_SAs that came up or went down.
 *
 * Linking an L2TP peer to an SA (docs/ipsec.md "Which SA carries this L2TP tunnel"): ESP transport
 * mode has one IP header, so after decryption the agent sees the IKE peer's address (the NAT's
 * public address) and the client's own inner UDP source port (NAT rewrote only the outer UDP/4500
 * header). The child's remote traffic selector carries that inner port when the client pinned it
 * (Windows: udp/1701); `dynamic[udp]` narrowed to "any port" carries none. So a peer matches a
 * CHILD_SA by remote host AND selector port when the SA has one, else by remote host alone.
 * Clients behind one NAT that all use port 1701 share address AND port: they are told apart by
 * the CHILD_SA's mark, which the kernel puts on what that SA decrypts (`matchMark`).
 */
import type { ViciMessage, ViciSection, ViciValue } from '../vici';
import { normalizeAddress, parseTrafficSelector, singleUdpPort } from './traffic-selector';

/** One installed transport-mode CHILD_SA of a tracked connection. */
export interface ChildSa {
  /** IKE_SA config name (the connection). */
  readonly ikeName: string;
  /** IKE_SA unique id (what `terminate` takes as `ike-id`). */
  readonly ikeId: string;
  /** CHILD_SA unique id; the table key. */
  readonly childId: string;
  readonly childName: string;
  /** IKE peer address, normalized (the address L2TP datagrams come from after decryption). */
  readonly remoteHost: string;
  /** IKE peer port (500, or the NAT-mapped 4500 port); not the L2TP port. */
  readonly remoteIkePort?: number;
  readonly remoteId?: string;
  /** The client's L2TP UDP port when its remote traffic selector pins one. */
  readonly l2tpPort?: number;
  /** UDP-encapsulated ESP (NAT-T). */
  readonly encap: boolean;
  /** The SA's marks (`%unique` values; VICI reports them as 8 hex digits), if any. */
  readonly markIn?: number;
  readonly markOut?: number;
  readonly remoteTs: readonly string[];
}

/** CHILD_SAs by CHILD_SA unique id. */
export type SaTable = ReadonlyMap<string, ChildSa>;

export type SaTableEvent =
  | { readonly kind: 'snapshot'; readonly sas: readonly { readonly name: string; readonly sa: ViciSection }[] }
  | { readonly kind: 'ike-updown'; readonly message: ViciMessage }
  | { readonly kind: 'ike-rekey'; readonly message: ViciMessage }
  | { readonly kind: 'child-updown'; readonly message: ViciMessage }
  | { readonly kind: 'child-rekey'; readonly message: ViciMessage };

export interface SaChange {
  readonly type: 'up' | 'down';
  readonly sa: ChildSa;
}

/** Which connections count (IKE_SA config names). */
export interface SaFilter {
  readonly connections: ReadonlySet<string>;
}

export const EMPTY_SA_TABLE: SaTable = new Map();

/** Applies one event; `changes` lists CHILD_SAs that appeared ('up') or disappeared ('down'). */
export function stepSaTable(table: SaTable, event: SaTableEvent, filter: SaFilter): { table: SaTable; changes: SaChange[] } {
  const next = new Map(table);
  switch (event.kind) {
    case 'snapshot':
      next.clear();
      for (const { name, sa } of event.sas) {
        if (!filter.connections.has(name)) continue;
        for (const child of childrenOf(name, sa)) next.set(child.childId, child);
      }
      break;
    case 'ike-updown':
      if (event.message.up !== 'yes') {
        for (const [name, ike] of ikeSections(event.message)) {
          const ikeId = str(ike.uniqueid);
          if (!filter.connections.has(name) || ikeId === undefined) continue;
          for (const [id, child] of next) if (child.ikeId === ikeId) next.delete(id);
        }
      }
      break;
    case 'ike-rekey':
      // Children move to the new IKE_SA (IKEv2, or IKEv1 reauthentication): keep them, re-point ikeId.
      for (const [name, pair] of ikeSections(event.message)) {
        if (!filter.connections.has(name)) continue;
        const oldId = str(section(pair.old)?.uniqueid);
        const newId = str(section(pair.new)?.uniqueid);
        if (oldId === undefined || newId === undefined) continue;
        for (const [id, child] of next) if (child.ikeId === oldId) next.set(id, { ...child, ikeId: newId });
      }
      break;
    case 'child-updown':
      for (const [name, ike] of ikeSections(event.message)) {
        if (!filter.connections.has(name)) continue;
        if (event.message.up === 'yes') {
          for (const child of childrenOf(name, ike)) next.set(child.childId, child);
        } else {
          for (const [key, c] of childSections(ike)) next.delete(str(c.uniqueid) ?? key);
        }
      }
      break;
    case 'child-rekey':
      for (const [name, ike] of ikeSections(event.message)) {
        if (!filter.connections.has(name)) continue;
        for (const [key, pair] of childSections(ike)) {
          const old = section(pair.old);
          const fresh = section(pair.new);
          if (old) next.delete(str(old.uniqueid) ?? key);
          if (fresh) {
            const child = childFrom(name, ike, key, fresh);
            if (child) next.set(child.childId, child);
          }
        }
      }
      break;
  }
  return { table: next, changes: diffSaTables(table, next) };
}

/** CHILD_SAs present in only one of the tables ('down' = only in `before`). */
export function diffSaTables(before: SaTable, after: SaTable): SaChange[] {
  const changes: SaChange[] = [];
  for (const [id, sa] of before) if (!after.has(id)) changes.push({ type: 'down', sa });
  for (const [id, sa] of after) if (!before.has(id)) changes.push({ type: 'up', sa });
  return changes;
}

/**
 * The CHILD_SAs an L2TP peer (address and UDP port as the agent's socket saw them) arrived through:
 * those whose selector pins this port, else those for this address without a pinned port. An
 * address whose SAs all pin OTHER ports (other clients behind the same NAT) does not match.
 * `unmarkedOnly`: consider only SAs without marks (the datagram had none although the socket
 * reads them, so no marked SA decrypted it).
 */
export function matchPeer(table: SaTable, address: string, port: number, options: { unmarkedOnly?: boolean } = {}): { by: 'port' | 'address'; sas: ChildSa[] } | undefined {
  const host = normalizeAddress(address);
  // A datagram without a mark on a socket that reads marks did not come through a marked SA.
  const sameHost = [...table.values()].filter((sa) => sa.remoteHost === host && !(options.unmarkedOnly && sa.markIn !== undefined));
  const byPort = sameHost.filter((sa) => sa.l2tpPort === port);
  if (byPort.length > 0) return { by: 'port', sas: byPort };
  const anyPort = sameHost.filter((sa) => sa.l2tpPort === undefined);
  if (anyPort.length > 0) return { by: 'address', sas: anyPort };
  return undefined;
}

/**
 * The CHILD_SA whose inbound mark is `mark`, i.e. the one that decrypted a datagram that arrived
 * with this mark (`set_mark_in = %same`), if its peer is `address`. Marks are unique per CHILD_SA.
 */
export function matchMark(table: SaTable, address: string, mark: number): ChildSa | undefined {
  if (mark === 0) return undefined;
  const host = normalizeAddress(address);
  for (const sa of table.values()) if (sa.markIn === mark && sa.remoteHost === host) return sa;
  return undefined;
}

/** Builds the ChildSa records of one IKE_SA section (list-sa / child-updown shape). */
export function childrenOf(ikeName: string, ike: ViciSection): ChildSa[] {
  const out: ChildSa[] = [];
  for (const [key, c] of childSections(ike)) {
    const child = childFrom(ikeName, ike, key, c);
    if (child) out.push(child);
  }
  return out;
}

function childFrom(ikeName: string, ike: ViciSection, key: string, c: ViciSection): ChildSa | undefined {
  const ikeId = str(ike.uniqueid);
  const remoteHost = str(ike['remote-host']);
  // Only installed ESP transport SAs protect L2TP; tunnel-mode or half-built ones do not count.
  if (ikeId === undefined || remoteHost === undefined) return undefined;
  if (str(c.mode)?.toUpperCase() !== 'TRANSPORT') return undefined;
  if ((str(c.state) ?? 'INSTALLED').toUpperCase() !== 'INSTALLED') return undefined;
  if ((str(c.protocol) ?? 'ESP').toUpperCase() !== 'ESP') return undefined;
  const remoteTs = list(c['remote-ts']);
  const ports = new Set<number | undefined>(remoteTs.map((ts) => {
    const parsed = parseTrafficSelector(ts);
    return parsed ? singleUdpPort(parsed) : undefined;
  }));
  // One pinned port only when every selector pins the same one; otherwise treat as "any port".
  const l2tpPort = ports.size === 1 ? [...ports][0] : undefined;
  const ikePort = str(ike['remote-port']);
  const remoteId = str(ike['remote-id']);
  const markIn = hexMark(str(c['mark-in']));
  const markOut = hexMark(str(c['mark-out']));
  return {
    ikeName,
    ikeId,
    childId: str(c.uniqueid) ?? key,
    childName: str(c.name) ?? key,
    remoteHost: normalizeAddress(remoteHost),
    ...(ikePort !== undefined && /^\d+$/.test(ikePort) ? { remoteIkePort: Number(ikePort) } : {}),
    ...(remoteId === undefined ? {} : { remoteId }),
    ...(l2tpPort === undefined ? {} : { l2tpPort }),
    encap: str(c.encap) === 'yes',
    ...(markIn === undefined ? {} : { markIn }),
    ...(markOut === undefined ? {} : { markOut }),
    remoteTs,
  };
}

/** vici_query.c prints marks with "%.8x"; 0 or anything else means no mark. */
function hexMark(text: string | undefined): number | undefined {
  if (text === undefined || !/^(0x)?[0-9a-fA-F]{1,8}$/.test(text)) return undefined;
  const value = parseInt(text.replace(/^0x/, ''), 16);
  return value === 0 ? undefined : value;
}

function ikeSections(message: ViciMessage): [string, ViciSection][] {
  const out: [string, ViciSection][] = [];
  for (const [name, value] of Object.entries(message)) {
    const s = section(value);
    if (s) out.push([name, s]);
  }
  return out;
}

function childSections(ike: ViciSection): [string, ViciSection][] {
  const children = section(ike['child-sas']);
  return children ? ikeSections(children) : [];
}

function section(value: ViciValue | undefined): ViciSection | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value) ? (value as ViciSection) : undefined;
}

function str(value: ViciValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function list(value: ViciValue | undefined): string[] {
  if (!Array.isArray(value)) return [];
  return (value as readonly (string | Buffer)[]).filter((v): v is string => typeof v === 'string');
}
