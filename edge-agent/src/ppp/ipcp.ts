/**
 * IPCP options (RFC 1332 §3) and the Microsoft DNS/NBNS extensions (RFC 1877). IPCP packets use the
 * generic control packet format with codes 1–7 only (RFC 1332 §2).
 */
import { bytesToIpv4, ipv4ToBytes, readU16 } from './bytes';
import { decodeOptions, encodeOptions, type PppOption } from './control-packet';
import { PppDecodeError } from './errors';
import { IPCP_OPTION } from './protocol-numbers';

export type IpcpAddressKind = 'ip-address' | 'primary-dns' | 'secondary-dns' | 'primary-nbns' | 'secondary-nbns';

export type IpcpOption =
  | { readonly kind: IpcpAddressKind; readonly address: string }
  | { readonly kind: 'ip-compression'; readonly protocol: number; readonly data: Uint8Array }
  | { readonly kind: 'unknown'; readonly type: number; readonly data: Uint8Array };

const ADDRESS_TYPES: Record<IpcpAddressKind, number> = {
  'ip-address': IPCP_OPTION.IP_ADDRESS,
  'primary-dns': IPCP_OPTION.PRIMARY_DNS,
  'secondary-dns': IPCP_OPTION.SECONDARY_DNS,
  'primary-nbns': IPCP_OPTION.PRIMARY_NBNS,
  'secondary-nbns': IPCP_OPTION.SECONDARY_NBNS,
};
const ADDRESS_KINDS = new Map(Object.entries(ADDRESS_TYPES).map(([k, v]) => [v, k as IpcpAddressKind]));

export function decodeIpcpOption(o: PppOption): IpcpOption | PppDecodeError {
  const addressKind = ADDRESS_KINDS.get(o.type);
  if (addressKind) {
    if (o.data.length !== 4) return new PppDecodeError('bad-option', `IPCP option ${o.type} needs 4 data bytes, has ${o.data.length}`);
    return { kind: addressKind, address: bytesToIpv4(o.data) };
  }
  if (o.type === IPCP_OPTION.IP_COMPRESSION) {
    if (o.data.length < 2) return new PppDecodeError('bad-option', 'IP-Compression-Protocol without a protocol');
    return { kind: 'ip-compression', protocol: readU16(o.data, 0), data: o.data.subarray(2) };
  }
  return { kind: 'unknown', type: o.type, data: o.data };
}

/** Encodes one option; an address that is not dotted IPv4 encodes as 0.0.0.0 (callers validate first). */
export function encodeIpcpOption(o: IpcpOption): PppOption {
  switch (o.kind) {
    case 'ip-compression': {
      const data = new Uint8Array(2 + o.data.length);
      data[0] = (o.protocol >>> 8) & 0xff;
      data[1] = o.protocol & 0xff;
      data.set(o.data, 2);
      return { type: IPCP_OPTION.IP_COMPRESSION, data };
    }
    case 'unknown':
      return { type: o.type, data: o.data };
    default:
      return { type: ADDRESS_TYPES[o.kind], data: ipv4ToBytes(o.address) ?? new Uint8Array(4) };
  }
}

export function decodeIpcpOptions(buf: Uint8Array): IpcpOption[] | PppDecodeError {
  const raw = decodeOptions(buf);
  if (raw instanceof PppDecodeError) return raw;
  const out: IpcpOption[] = [];
  for (const r of raw) {
    const o = decodeIpcpOption(r);
    if (o instanceof PppDecodeError) return o;
    out.push(o);
  }
  return out;
}

export function encodeIpcpOptions(options: readonly IpcpOption[]): Uint8Array {
  return encodeOptions(options.map(encodeIpcpOption));
}
