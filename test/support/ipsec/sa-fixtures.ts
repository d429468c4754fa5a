/**
 * Test-only builders for the VICI sections charon sends about IKE/CHILD_SAs (list-sa, ike-updown,
 * child-updown, child-rekey), shaped like strongSwan 5.9's vici_query.c output.
 */
import type { ViciMessage, ViciSection } from '../../../edge-agent/src/vici';
import { L2TP_CHILD_NAME, L2TP_CONN_NAME } from '../../../edge-agent/src/ipsec/conn-config';

export interface ChildFixture {
  readonly childId: string;
  /** Printed remote selector, e.g. `203.0.113.5/32[udp/l2f]` or `203.0.113.5/32[udp]`. */
  readonly remoteTs?: string;
  readonly mode?: string;
  readonly state?: string;
  readonly mark?: string;
}

export interface IkeFixture {
  readonly ikeId: string;
  readonly remoteHost: string;
  readonly remotePort?: string;
  readonly children?: readonly ChildFixture[];
}

export function childSection(ike: IkeFixture, c: ChildFixture): ViciSection {
  return {
    name: L2TP_CHILD_NAME,
    uniqueid: c.childId,
    reqid: '1',
    state: c.state ?? 'INSTALLED',
    mode: c.mode ?? 'TRANSPORT',
    protocol: 'ESP',
    encap: ike.remotePort === '500' ? 'no' : 'yes',
    'spi-in': 'c0ffee01',
    'spi-out': '0badf00d',
    ...(c.mark ? { 'mark-in': c.mark, 'mark-out': c.mark } : {}),
    'encr-alg': 'AES_CBC',
    'encr-keysize': '256',
    'integ-alg': 'HMAC_SHA1_96',
    'local-ts': ['198.51.100.1/32[udp/l2f]'],
    'remote-ts': [c.remoteTs ?? `${ike.remoteHost}/32[udp/l2f]`],
  };
}

export function ikeSection(ike: IkeFixture, withChildren = true): ViciSection {
  const base: ViciSection = {
    uniqueid: ike.ikeId,
    version: '1',
    state: 'ESTABLISHED',
    'local-host': '198.51.100.1',
    'local-port': '4500',
    'remote-host': ike.remoteHost,
    'remote-port': ike.remotePort ?? '4500',
    'remote-id': '192.168.1.10',
    'nat-remote': 'yes',
    'encr-alg': 'AES_CBC',
    'dh-group': 'MODP_2048',
  };
  if (!withChildren) return base;
  const children: Record<string, ViciSection> = {};
  for (const c of ike.children ?? []) children[`${L2TP_CHILD_NAME}-${c.childId}`] = childSection(ike, c);
  return { ...base, 'child-sas': children };
}

/** A `list-sa` event message. */
export function listSaMessage(ike: IkeFixture, conn = L2TP_CONN_NAME): ViciMessage {
  return { [conn]: ikeSection(ike) };
}

export function childUpdownMessage(up: boolean, ike: IkeFixture, conn = L2TP_CONN_NAME): ViciMessage {
  return { up: up ? 'yes' : 'no', [conn]: ikeSection(ike) };
}

export function ikeUpdownMessage(up: boolean, ike: IkeFixture, conn = L2TP_CONN_NAME): ViciMessage {
  return { up: up ? 'yes' : 'no', [conn]: ikeSection(ike, false) };
}

export function childRekeyMessage(ike: IkeFixture, old: ChildFixture, fresh: ChildFixture): ViciMessage {
  return {
    [L2TP_CONN_NAME]: {
      ...ikeSection(ike, false),
      'child-sas': { [L2TP_CHILD_NAME]: { old: childSection(ike, old), new: childSection(ike, fresh) } },
    },
  };
}
