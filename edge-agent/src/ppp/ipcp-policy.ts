/**
 * IPCP negotiation (RFC 1332, RFC 1877). Server: offers its own (gateway) address and Naks the
 * client's IP-Address and DNS wishes into what the broker assigned; NBNS, IP-Compression and anything
 * unknown are rejected. Client: asks for 0.0.0.0 (and DNS 0.0.0.0) and adopts what the server Naks.
 */
import type { PppOption } from './control-packet';
import { composeReply, type LayerPolicy, type RequestReview } from './control-layer';
import { PppDecodeError } from './errors';
import { decodeIpcpOption, encodeIpcpOption, type IpcpAddressKind } from './ipcp';
import { IPCP_OPTION } from './protocol-numbers';

export interface ServerIpcpState {
  /** Our end of the link, sent as IP-Address in our Configure-Request. */
  readonly gateway: string;
  readonly requestAddress: boolean;
  /** What the broker assigned to the client. */
  readonly address: string;
  readonly dns: readonly string[];
}

const addr = (kind: IpcpAddressKind, address: string): PppOption => encodeIpcpOption({ kind, address });

export const serverIpcpPolicy: LayerPolicy<ServerIpcpState> = {
  requestOptions: (p) => (p.requestAddress ? [addr('ip-address', p.gateway)] : []),

  reviewRequest(p, options, nakAllowed): RequestReview<ServerIpcpState> {
    const verdicts = options.map((raw) => {
      const o = decodeIpcpOption(raw);
      if (o instanceof PppDecodeError) return { option: raw, verdict: 'reject' as const };
      const expect = (wanted: string | undefined, kind: IpcpAddressKind, got: string) => {
        if (wanted === undefined) return { option: raw, verdict: 'reject' as const };
        if (got === wanted) return { option: raw, verdict: 'ack' as const };
        return { option: raw, verdict: 'nak' as const, suggestion: addr(kind, wanted) };
      };
      switch (o.kind) {
        case 'ip-address':
          return expect(p.address, o.kind, o.address);
        case 'primary-dns':
          return expect(p.dns[0], o.kind, o.address);
        case 'secondary-dns':
          return expect(p.dns[1], o.kind, o.address);
        default:
          return { option: raw, verdict: 'reject' as const }; // NBNS, IP-Compression (VJ), IP-Addresses, unknown
      }
    });
    return composeReply(p, verdicts, nakAllowed);
  },

  // A client has no business changing our address; keep it and let Max-Configure bound the argument.
  onNak: (p) => ({ policy: p }),
  onReject: (p, options) => ({
    policy: options.some((o) => o.type === IPCP_OPTION.IP_ADDRESS) ? { ...p, requestAddress: false } : p,
  }),
};

export interface ClientIpcpState {
  readonly address: string;
  readonly dns: readonly [string | undefined, string | undefined];
  /** The server's address, from its request we acked. */
  readonly peerAddress?: string;
}

/** Initial client state: ask for an address and both DNS servers (as Windows does). */
export function clientIpcpState(requestDns = true): ClientIpcpState {
  return { address: '0.0.0.0', dns: requestDns ? ['0.0.0.0', '0.0.0.0'] : [undefined, undefined] };
}

export const clientIpcpPolicy: LayerPolicy<ClientIpcpState> = {
  requestOptions(p) {
    const out = [addr('ip-address', p.address)];
    if (p.dns[0] !== undefined) out.push(addr('primary-dns', p.dns[0]));
    if (p.dns[1] !== undefined) out.push(addr('secondary-dns', p.dns[1]));
    return out;
  },

  reviewRequest(p, options, nakAllowed) {
    let next = p;
    const verdicts = options.map((raw) => {
      const o = decodeIpcpOption(raw);
      if (!(o instanceof PppDecodeError) && o.kind === 'ip-address' && o.address !== '0.0.0.0') {
        next = { ...next, peerAddress: o.address };
        return { option: raw, verdict: 'ack' as const };
      }
      return { option: raw, verdict: 'reject' as const };
    });
    return composeReply(next, verdicts, nakAllowed);
  },

  onNak(p, options) {
    let next = p;
    for (const raw of options) {
      const o = decodeIpcpOption(raw);
      if (o instanceof PppDecodeError) continue;
      if (o.kind === 'ip-address') next = { ...next, address: o.address };
      else if (o.kind === 'primary-dns') next = { ...next, dns: [o.address, next.dns[1]] };
      else if (o.kind === 'secondary-dns') next = { ...next, dns: [next.dns[0], o.address] };
    }
    return { policy: next };
  },

  onReject(p, options) {
    let next = p;
    for (const raw of options) {
      if (raw.type === IPCP_OPTION.PRIMARY_DNS) next = { ...next, dns: [undefined, next.dns[1]] };
      else if (raw.type === IPCP_OPTION.SECONDARY_DNS) next = { ...next, dns: [next.dns[0], undefined] };
    }
    return { policy: next };
  },
};
