/**
 * Parses traffic selectors as strongSwan prints them in `list-sas`/`list-conns` (the `%R` printf
 * hook in libstrongswan's traffic_selector.c): `<net>[<proto>/<port>]` where
 * - net is `a.b.c.d/nn`, `x::y/nn`, `from..to` or `dynamic`;
 * - proto is a protocol name from /etc/protocols (`udp`) or a number;
 * - port is a service name from /etc/services (`l2f` for 1701 on Debian), a number, `a-b`,
 *   or `OPAQUE`; `[udp]` alone means any port. Pure; unknown text yields undefined.
 */

export interface TrafficSelector {
  /** `dynamic`, `a.b.c.d/nn`, `from..to`, as printed. */
  readonly net: string;
  /** Host address when the selector covers exactly one address (`/32`, `/128`). */
  readonly host?: string;
  /** IP protocol number; undefined = any. */
  readonly protocol?: number;
  /** Inclusive port range; undefined = any port. `opaque` for OPAQUE. */
  readonly ports?: { readonly from: number; readonly to: number } | 'opaque';
}

const PROTOCOLS: Readonly<Record<string, number>> = { icmp: 1, tcp: 6, udp: 17, 'ipv6-icmp': 58, esp: 50, ah: 51, gre: 47 };

/** Service names strongSwan may print for the ports that matter here (getservbyport on the host). */
const SERVICES: Readonly<Record<string, number>> = { l2f: 1701, l2tp: 1701, isakmp: 500, 'ipsec-nat-t': 4500 };

const SELECTOR = /^([^[\]\s]+)(?:\[([^\]/]*)(?:\/([^\]]*))?\])?$/;

/** Parses one printed selector; undefined when it does not look like one. */
export function parseTrafficSelector(text: string): TrafficSelector | undefined {
  const m = SELECTOR.exec(text.trim());
  if (!m) return undefined;
  const net = m[1] ?? '';
  const protoText = m[2];
  const portText = m[3];
  const host = hostOf(net);
  let protocol: number | undefined;
  if (protoText !== undefined && protoText !== '') {
    protocol = /^\d+$/.test(protoText) ? Number(protoText) : PROTOCOLS[protoText.toLowerCase()];
    if (protocol === undefined || protocol > 255) return undefined;
  }
  let ports: TrafficSelector['ports'];
  if (portText !== undefined && portText !== '') {
    const parsed = parsePorts(portText);
    if (parsed === undefined) return undefined;
    ports = parsed;
  }
  return {
    net,
    ...(host === undefined ? {} : { host }),
    ...(protocol === undefined ? {} : { protocol }),
    ...(ports === undefined ? {} : { ports }),
  };
}

/** The single UDP port a selector pins, if it pins exactly one; undefined otherwise. */
export function singleUdpPort(selector: TrafficSelector): number | undefined {
  if (selector.protocol !== 17 || selector.ports === undefined || selector.ports === 'opaque') return undefined;
  return selector.ports.from === selector.ports.to ? selector.ports.from : undefined;
}

function parsePorts(text: string): TrafficSelector['ports'] | undefined {
  if (text === 'OPAQUE') return 'opaque';
  const range = /^(\d+)-(\d+)$/.exec(text);
  if (range) {
    const from = Number(range[1]);
    const to = Number(range[2]);
    return from <= to && to <= 65535 ? { from, to } : undefined;
  }
  const port = /^\d+$/.test(text) ? Number(text) : SERVICES[text.toLowerCase()];
  if (port === undefined || port > 65535) return undefined;
  return { from: port, to: port };
}

function hostOf(net: string): string | undefined {
  const cidr = /^(.+)\/(\d+)$/.exec(net);
  if (cidr) {
    const address = cidr[1] ?? '';
    const bits = Number(cidr[2]);
    if (address.includes(':') ? bits === 128 : bits === 32) return normalizeAddress(address);
    return undefined;
  }
  const range = /^(.+)\.\.(.+)$/.exec(net);
  if (range && range[1] === range[2]) return normalizeAddress(range[1] ?? '');
  return undefined;
}

/**
 * Canonical text for comparing addresses: IPv4-mapped IPv6 (`::ffff:1.2.3.4`, what a dual-stack
 * UDP socket reports) becomes plain IPv4; IPv6 is lower-cased.
 */
export function normalizeAddress(address: string): string {
  const a = address.trim().toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  return mapped ? (mapped[1] ?? a) : a;
}
