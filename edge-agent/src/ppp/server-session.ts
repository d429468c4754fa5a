/**
 * `PppServerSession`: the agent's PPP engine for one L2TP session (authenticator side). Pure:
 * `step(state, event) -> { state, actions }`. Data packets (IPv4 0x0021) never come here; the data
 * path takes them directly.
 *
 * Sequence (RFC 1661 §3): LCP (MRU, Magic, Auth-Protocol from the tenant's preference list) →
 * Authenticate (verify-credentials → auth-result) → request-address → address-assigned → IPCP →
 * link-up. Every end emits exactly one link-down.
 */
import type { AuthMethod } from '../../../contract/src/values';
import { readU32 } from './bytes';
import type { LayerDefinition } from './control-layer';
import { newLayer } from './control-layer';
import { serverIpcpPolicy, type ServerIpcpState } from './ipcp-policy';
import { lcpPolicy, serverLcpState, type LcpPolicyState } from './lcp-policy';
import { PPP_PROTOCOL } from './protocol-numbers';
import { authBegin, authReceive, authResult, authTimeout, type AuthStep, type ServerAuthConfig, type ServerAuthState } from './server-auth';
import {
  closeLink,
  coreTimer,
  finish,
  markHeard,
  receiveIpcp,
  receiveLcp,
  rejectProtocol,
  startIpcp,
  startLcp,
  type CoreHooks,
  type CoreState,
} from './session-core';
import { DEFAULT_TIMINGS, type AuthenticatedPeer, type PppAction, type PppServerEvent, type PppTimings, type RandomBytes, type StepResult } from './session-types';

export interface PppServerConfig {
  /** The tenant's allowed methods, preferred first (e.g. ['mschapv2', 'chap-md5', 'pap']). */
  readonly authMethods: readonly AuthMethod[];
  readonly random: RandomBytes;
  /** MRU we ask for. Default 1400 (room for L2TP/UDP/IPsec overhead on a 1500 path). */
  readonly mru?: number;
  readonly timings?: Partial<PppTimings>;
  /** CHAP Name of the authenticator. Default "tunnel-broker". */
  readonly serverName?: string;
  /** CHAP Challenges sent before auth-failure. Default 5, one per restart period. */
  readonly maxChallenges?: number;
  /** PAP: wait for the client's Authenticate-Request. Default 30 000 ms. */
  readonly papWaitMs?: number;
  /** Consecutive looped-back Magic-Numbers before giving up (RFC 1661 §6.4). Default 5. */
  readonly maxLoops?: number;
}

export interface PppServerState extends CoreState<ServerIpcpState> {
  readonly auth?: ServerAuthState;
  readonly username?: string;
  readonly authMethod?: AuthMethod;
  /** The verifier's principal between a successful auth-result and request-address. */
  readonly principal?: AuthenticatedPeer;
}

export interface PppServerSession {
  /** Starts LCP: the first Configure-Request and its restart timer. */
  start(): StepResult<PppServerState>;
  step(state: PppServerState, event: PppServerEvent): StepResult<PppServerState>;
}

type Hooks = CoreHooks<PppServerState, ServerIpcpState>;

/** Builds the engine for one session from its (injected) configuration. */
export function createPppServerSession(config: PppServerConfig): PppServerSession {
  if (config.authMethods.length === 0) throw new Error('PppServerConfig.authMethods must not be empty'); // programming error
  const timings: PppTimings = { ...DEFAULT_TIMINGS, ...config.timings };
  const random32 = () => readU32(config.random(4), 0);
  const lcpDef: LayerDefinition<LcpPolicyState> = {
    policy: lcpPolicy({ random32, maxLoops: config.maxLoops ?? 5 }),
    limits: timings.limits,
  };
  const ipcpDef: LayerDefinition<ServerIpcpState> = { policy: serverIpcpPolicy, limits: timings.limits };
  const authCfg: ServerAuthConfig = {
    random: config.random,
    name: config.serverName ?? 'tunnel-broker',
    retryMs: timings.restartMs,
    maxChallenges: config.maxChallenges ?? 5,
    papWaitMs: config.papWaitMs ?? 30_000,
  };

  const applyAuth = (s: PppServerState, r: AuthStep, out: PppAction[]): PppServerState => {
    out.push(...r.actions);
    let next: PppServerState = { ...s, auth: r.auth, username: r.auth.username ?? s.username };
    if (r.outcome === 'failure') next = closeLink(hooks, next, 'auth-failure', out);
    if (r.outcome === 'success') {
      next = { ...next, phase: 'network' };
      out.push({ kind: 'request-address', username: next.username ?? '', method: r.auth.method, principal: next.principal });
      next = { ...next, principal: undefined };
    }
    return next;
  };

  const hooks: Hooks = {
    timings,
    lcpDef,
    ipcpDef,
    onLcpUp(s, out) {
      const method = s.lcp.policy.authMethods[0];
      if (!method) return closeLink(hooks, s, 'auth-failure', out);
      return applyAuth({ ...s, authMethod: method }, authBegin(authCfg, method, s.lcp.nextId), out);
    },
    onLcpDown(s) {
      // RFC 1661 §3.7 / RFC 1994 §2.2: a renegotiated link authenticates again; we do not reopen, we end.
      return s;
    },
    onIpcpUp(s, out) {
      const p = s.ipcp.policy;
      out.push({
        kind: 'link-up',
        address: p.address,
        gateway: p.gateway,
        dns: p.dns,
        peerMru: s.lcp.policy.peerMru,
        peerPfc: s.lcp.policy.peerPfc,
        peerAcfc: s.lcp.policy.peerAcfc,
        username: s.username,
        authMethod: s.authMethod,
      });
      return s;
    },
  };

  const initial = (): PppServerState => {
    const magic = random32();
    return {
      phase: 'establish',
      lcp: newLayer(serverLcpState(config.mru ?? 1400, magic, config.authMethods), 1),
      ipcp: newLayer<ServerIpcpState>({ gateway: '0.0.0.0', requestAddress: true, address: '0.0.0.0', dns: [] }, 1),
      echoMisses: 0,
      linkUp: false,
    };
  };

  const step = (s: PppServerState, e: PppServerEvent): StepResult<PppServerState> => {
    const out: PppAction[] = [];
    if (s.phase === 'dead') return { state: s, actions: out };
    let next: PppServerState = s;
    switch (e.kind) {
      case 'frame':
        next = markHeard(hooks, onFrame(s, e.protocol, e.payload, out), e.protocol, e.payload);
        break;
      case 'timer':
        next = coreTimer(hooks, s, e.timer, out) ?? (s.auth && s.phase === 'authenticate' ? applyAuth(s, authTimeout(authCfg, s.auth), out) : s);
        break;
      case 'auth-result':
        if (s.auth && s.phase === 'authenticate') next = applyAuth({ ...s, principal: e.ok ? e.principal : undefined }, authResult(authCfg, s.auth, e), out);
        break;
      case 'address-assigned':
        if (s.phase === 'network' && s.ipcp.fsm.state === 'initial') {
          const ipcp = { ...s.ipcp, policy: { ...s.ipcp.policy, gateway: e.gateway, address: e.address, dns: e.dns } };
          next = startIpcp(hooks, { ...s, ipcp }, out);
        }
        break;
      case 'address-refused':
        next = closeLink(hooks, s, e.reason, out);
        break;
      case 'close':
        next = closeLink(hooks, s, e.reason, out);
        break;
      case 'lower-down':
        next = finish(s, e.reason ?? 'tunnel-closed', out);
        break;
    }
    return { state: next, actions: out };
  };

  const onFrame = (s: PppServerState, protocol: number, payload: Uint8Array, out: PppAction[]): PppServerState => {
    switch (protocol) {
      case PPP_PROTOCOL.LCP:
        return receiveLcp(hooks, s, payload, out);
      case PPP_PROTOCOL.PAP:
      case PPP_PROTOCOL.CHAP:
        // §3.5: auth packets only count while authenticating (and repeats right after success).
        if (!s.auth || s.lcp.fsm.state !== 'opened') return s;
        return applyAuth(s, authReceive(s.auth, protocol, payload), out);
      case PPP_PROTOCOL.IPCP:
        return receiveIpcp(hooks, s, payload, out);
      case PPP_PROTOCOL.IPV4:
        return s; // the data path's business; a stray one here is dropped
      default:
        // CCP, IPV6CP, LQR, ...: Protocol-Reject so Windows/macOS stop asking and carry on.
        return rejectProtocol(hooks, s, protocol, payload, out);
    }
  };

  return {
    start() {
      const out: PppAction[] = [];
      const state = startLcp(hooks, initial(), out);
      return { state, actions: out };
    },
    step,
  };
}

