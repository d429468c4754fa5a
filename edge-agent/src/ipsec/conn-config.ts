/**
 * The strongSwan configuration the agent loads over VICI: one IKEv1 Main Mode PSK responder that
 * protects only L2TP (RFC 3193 §4-5: ESP transport mode, UDP 1701 on our side), and the PSK.
 * Pure builders; the controller sends them. Option names follow swanctl.conf(5).
 */
import {
  loadL2tpPskConnMessage,
  loadSharedIkeMessage,
  unloadConnMessage,
  type ViciMessage,
  type ViciSection,
} from '../vici';
import { l2tpProposals } from './proposals';

/** Name of the connection (`load-conn` key); also the `list-sas` IKE_SA config name we track. */
export const L2TP_CONN_NAME = 'l2tp-psk';
/** Name of its CHILD_SA config. */
export const L2TP_CHILD_NAME = 'l2tp';
/** `load-shared` id (strongSwan >= 5.8.0): loading again under this id replaces the key. */
export const PSK_SECRET_ID = 'tunnel-broker-l2tp-psk';
/** CHILD_SA rekey interval; Windows' quick mode lifetime is also one hour. */
export const CHILD_REKEY_TIME = '1h';

export interface L2tpConnSpec {
  readonly allowLegacyProposals: boolean;
  /**
   * `mark_in = mark_out = %unique` on the child so strongSwan's connmark plugin can return each
   * client's traffic through its own SA when several clients share one public address (see
   * docs/ipsec.md). Only safe when the connmark plugin is loaded: a marked outbound policy does
   * not match unmarked packets, so without the plugin's OUTPUT rule (or `setMarkIn` and a socket
   * that sets marks) our replies would leave unprotected. The plugin handles IPv4 only, so marked
   * configs accept IPv4 peers only.
   */
  readonly uniqueMarks: boolean;
  /**
   * With `uniqueMarks`: `set_mark_in = %same`, the kernel puts the SA's inbound mark on every
   * packet the SA decrypts (Linux >= 4.19), so the agent's socket reads which SA carried each
   * datagram (SO_RCVMARK) and answers with that mark. No netfilter rules needed.
   */
  readonly setMarkIn?: boolean;
  /** Local IKE identity; default strongSwan's (our IKE address). */
  readonly localId?: string;
  /** Force UDP encapsulation even without NAT (`encap = yes`); NAT-T is automatic otherwise. */
  readonly forceEncap?: boolean;
  /**
   * Our IKE addresses (`local_addrs`); default `%any`. In cloud 1:1 NAT mode the public address,
   * which the agent has made local (edge-agent/src/cloud-nat/).
   */
  readonly localAddrs?: readonly string[];
}

/** `load-conn` message for the L2TP/IPsec responder. */
export function l2tpConnMessage(spec: L2tpConnSpec): ViciMessage {
  const proposals = l2tpProposals(spec.allowLegacyProposals);
  const base = loadL2tpPskConnMessage({
    name: L2TP_CONN_NAME,
    childName: L2TP_CHILD_NAME,
    remoteAddrs: spec.uniqueMarks ? ['0.0.0.0/0'] : ['%any'],
    ...(spec.localAddrs === undefined ? {} : { localAddrs: spec.localAddrs }),
    ikeProposals: proposals.ike,
    espProposals: proposals.esp,
    dpdDelay: '30s',
    dpdTimeout: '150s',
    ...(spec.forceEncap === undefined ? {} : { forceEncap: spec.forceEncap }),
    ...(spec.localId === undefined ? {} : { localId: spec.localId }),
  });
  const conn = base[L2TP_CONN_NAME] as ViciSection;
  const children = conn.children as ViciSection;
  const child = children[L2TP_CHILD_NAME] as ViciSection;
  return {
    [L2TP_CONN_NAME]: {
      ...conn,
      // IKEv1 cannot rekey an IKE SA, only re-authenticate it, and a responder-initiated Main Mode
      // towards a NATed road warrior is fragile; the clients re-key phase 1 on their own lifetime
      // and DPD clears dead peers.
      rekey_time: '0s',
      reauth_time: '0s',
      children: {
        [L2TP_CHILD_NAME]: {
          ...child,
          rekey_time: CHILD_REKEY_TIME,
          ...(spec.uniqueMarks ? { mark_in: '%unique', mark_out: '%unique', ...(spec.setMarkIn ? { set_mark_in: '%same' } : {}) } : {}),
        },
      },
    },
  };
}

/** `load-shared` message for the fleet PSK; owners empty = any peer identity. */
export function l2tpPskMessage(psk: string): ViciMessage {
  return loadSharedIkeMessage({ id: PSK_SECRET_ID, secret: psk, owners: [] });
}

/** `unload-shared` message for the fleet PSK. */
export function unloadPskMessage(): ViciMessage {
  return { id: PSK_SECRET_ID };
}

/** `unload-conn` message for the L2TP connection. */
export function unloadL2tpConnMessage(): ViciMessage {
  return unloadConnMessage(L2TP_CONN_NAME);
}
