/**
 * Builders for the VICI messages the agent sends. Plain data in, plain ViciMessage out; option
 * names follow swanctl.conf(5), command shapes follow the vici README.
 */
import type { ViciMessage, ViciSection } from './message-codec';

// Which proposals to offer is policy, and lives in ../ipsec/proposals.ts; these builders take lists.

export interface L2tpPskConnOptions {
  /** Connection name (the key under which load-conn stores it). */
  readonly name: string;
  /** Default ['%any']. */
  readonly localAddrs?: readonly string[];
  /** Default ['%any']: road-warrior clients from anywhere. */
  readonly remoteAddrs?: readonly string[];
  readonly ikeProposals: readonly string[];
  readonly espProposals: readonly string[];
  /** Default '30s'. */
  readonly dpdDelay?: string;
  /** IKEv1 only. Default '150s'. */
  readonly dpdTimeout?: string;
  /**
   * Force UDP encapsulation (encap=yes) even without a detected NAT. Default false: NAT-T is still
   * used automatically when NAT detection finds a NAT (the usual case for L2TP clients at home).
   */
  readonly forceEncap?: boolean;
  /** Local IKE identity (e.g. the public address); default strongSwan's (the local address). */
  readonly localId?: string;
  /** Child config name. Default 'l2tp'. */
  readonly childName?: string;
}

/**
 * `load-conn` for an IKEv1 PSK responder that only protects L2TP (RFC 3193 §4: transport mode,
 * UDP port 1701 on our side; the client's source port may be any because NAT and iOS/macOS change it).
 */
export function loadL2tpPskConnMessage(o: L2tpPskConnOptions): ViciMessage {
  const local: ViciSection = o.localId === undefined ? { auth: 'psk' } : { auth: 'psk', id: o.localId };
  return {
    [o.name]: {
      version: '1',
      local_addrs: [...(o.localAddrs ?? ['%any'])],
      remote_addrs: [...(o.remoteAddrs ?? ['%any'])],
      proposals: [...o.ikeProposals],
      dpd_delay: o.dpdDelay ?? '30s',
      dpd_timeout: o.dpdTimeout ?? '150s',
      encap: o.forceEncap ? 'yes' : 'no',
      // PSK clients are told apart only by address; never let one client's SA replace another's.
      unique: 'never',
      fragmentation: 'yes',
      local,
      remote: { auth: 'psk' },
      children: {
        [o.childName ?? 'l2tp']: {
          mode: 'transport',
          local_ts: ['dynamic[udp/1701]'],
          remote_ts: ['dynamic[udp]'],
          esp_proposals: [...o.espProposals],
          dpd_action: 'clear',
          start_action: 'none',
          close_action: 'none',
        },
      },
    },
  };
}

export interface LoadSharedOptions {
  /** The PSK (raw bytes or UTF-8 text). */
  readonly secret: string | Buffer;
  /** Identities the secret applies to; empty = any peer (a single global PSK). */
  readonly owners?: readonly string[];
  /** Optional unique id (strongSwan >= 5.8.0) so the key can later be replaced or unloaded by id. */
  readonly id?: string;
}

/** `load-shared` for an IKE pre-shared key. */
export function loadSharedIkeMessage(o: LoadSharedOptions): ViciMessage {
  return {
    ...(o.id === undefined ? {} : { id: o.id }),
    type: 'IKE',
    data: o.secret,
    owners: [...(o.owners ?? [])],
  };
}

export interface TerminateOptions {
  /** The IKE_SA unique id (list-sa `uniqueid`). */
  readonly ikeId: number | string;
  /** Milliseconds strongSwan waits before answering; -1 answers at once. */
  readonly timeoutMs?: number;
  /** Delete without waiting for the peer's answer (strongSwan >= 5.5.1). */
  readonly force?: boolean;
}

/** `terminate` of one IKE_SA by unique id. */
export function terminateIkeMessage(o: TerminateOptions): ViciMessage {
  return {
    'ike-id': String(o.ikeId),
    ...(o.timeoutMs === undefined ? {} : { timeout: String(o.timeoutMs) }),
    ...(o.force ? { force: 'yes' } : {}),
  };
}

export interface ListSasOptions {
  readonly noblock?: boolean;
  readonly ike?: string;
  readonly ikeId?: number | string;
}

/** `list-sas`; the SAs stream as `list-sa` events. */
export function listSasMessage(o: ListSasOptions = {}): ViciMessage {
  return {
    ...(o.noblock ? { noblock: 'yes' } : {}),
    ...(o.ike === undefined ? {} : { ike: o.ike }),
    ...(o.ikeId === undefined ? {} : { 'ike-id': String(o.ikeId) }),
  };
}

/** `unload-conn`. */
export function unloadConnMessage(name: string): ViciMessage {
  return { name };
}
