/** Options and results of the L2TP/PPP client simulator (see open-tunnels.ts). */
import type { AuthMethod, EndReason } from '../../functions/src/domain/types';
import type { ResultCode } from '../../edge-agent/src/l2tp';

export interface SimCredentials {
  readonly username: string;
  readonly password: string;
  /** The only method the client agrees to (it Naks the server's other proposals towards this one). */
  readonly method: AuthMethod;
}

export interface SimTimeouts {
  /** From placing the call to PPP link-up. @default 30000 */
  readonly setupMs?: number;
  /** PPP Restart timer (RFC 1661 §4.6). @default 3000 */
  readonly pppRestartMs?: number;
  /** LCP Echo-Request interval; 0 disables. @default 30000 */
  readonly echoIntervalMs?: number;
  /** L2TP HELLO after this much silence (RFC 2661 §6.5). @default 60000 */
  readonly helloIntervalMs?: number;
  /** How long `close()` waits for Terminate-Ack / StopCCN-ack before dropping state. @default 5000 */
  readonly closeMs?: number;
}

export interface OpenTunnelsOptions {
  readonly server: { readonly address: string; readonly port: number };
  /** Number of L2TP tunnels (control connections). */
  readonly tunnels: number;
  /** PPP sessions per tunnel. */
  readonly sessionsPerTunnel: number;
  /** Credentials of the session with global index `i` (tunnel * sessionsPerTunnel + session). */
  readonly credentials: (index: number) => SimCredentials;
  /** Source address to bind. @default '0.0.0.0' */
  readonly localAddress?: string;
  /**
   * Source port. When given, every tunnel shares one socket on this port (clients behind one NAT: same address and
   * port, different tunnel ids). @default an ephemeral port per tunnel (or one shared, see `shareSocket`).
   */
  readonly localPort?: number;
  /** One socket for all tunnels even without `localPort` (thousands of tunnels without thousands of fds). */
  readonly shareSocket?: boolean;
  /**
   * Receive and send through the agent's batched native socket (recvmmsg/sendmmsg, 64 datagrams per
   * call; needs root) instead of node:dgram, so that the simulator is not the ceiling of a data-path
   * benchmark. Each datagram is copied once on arrival (the socket reuses its buffers). @default false
   */
  readonly batchedSocket?: boolean;
  readonly timeouts?: SimTimeouts;
  /** L2TP tunnel secret (RFC 2661 §5.1.1). */
  readonly tunnelSecret?: string;
  /** PPP MRU we ask for. @default 1400 */
  readonly mru?: number;
  /** At most this many tunnels in the middle of setting up at once. @default all */
  readonly concurrency?: number;
  /** Diagnostics: protocol warnings and state changes. */
  readonly onEvent?: (event: SimEvent) => void;
}

export type SimEvent =
  | { readonly kind: 'tunnel-up'; readonly tunnel: number; readonly peerTunnelId: number }
  | { readonly kind: 'tunnel-down'; readonly tunnel: number; readonly reason: string; readonly resultCode?: ResultCode }
  | { readonly kind: 'session-up'; readonly session: number; readonly address: string; readonly setupMs: number }
  | { readonly kind: 'session-failed'; readonly session: number; readonly reason: string }
  | { readonly kind: 'link-down'; readonly session: number; readonly info: LinkDownInfo }
  | { readonly kind: 'warning'; readonly tunnel: number; readonly message: string; readonly detail?: Record<string, unknown> };

/** Outcome of one session's setup. */
export interface SessionResult {
  readonly index: number;
  readonly tunnel: number;
  readonly username: string;
  readonly method: AuthMethod;
  readonly ok: boolean;
  /** Why setup failed: the PPP end reason, 'timeout', or an L2TP cause such as 'tunnel-closed:peer-stopped'. */
  readonly reason?: string;
  readonly address?: string;
  readonly gateway?: string;
  readonly dns?: readonly string[];
  /** Place-call to PPP link-up, in ms. */
  readonly setupMs?: number;
  readonly localTunnelId: number;
  readonly peerTunnelId: number;
  readonly localSessionId: number;
  readonly peerSessionId: number;
}

/** How and why an established link ended. */
export interface LinkDownInfo {
  /** The PPP engine's end reason ('user-request' when the peer sent LCP Terminate-Request). */
  readonly reason: EndReason | 'timeout' | string;
  /** Who started the teardown. */
  readonly by: 'local' | 'peer';
  /** Text the server put in its LCP Terminate-Request, if any. */
  readonly peerMessage?: string;
  /** Result Code AVP of the server's CDN, if the L2TP session was closed by it. */
  readonly cdn?: ResultCode;
}

export interface PingOptions {
  /** @default 1 */
  readonly count?: number;
  /** Between requests. @default 100 */
  readonly intervalMs?: number;
  /** Wait for the last reply this long after the last request. @default 2000 */
  readonly timeoutMs?: number;
  /** ICMP data bytes. @default 56 */
  readonly size?: number;
}

export interface PingResult {
  readonly sent: number;
  readonly received: number;
  /** Round-trip times of the answered requests, in ms, in sequence order. */
  readonly rttMs: readonly number[];
}

/** Per-session IPv4 counters (PPP IPv4 frames only). */
export interface SessionCounters {
  packetsOut: number;
  bytesOut: number;
  packetsIn: number;
  bytesIn: number;
}
