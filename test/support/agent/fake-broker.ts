/**
 * Test-only Broker: verifies PAP / CHAP-MD5 / MS-CHAPv2 with the broker's own ppp-auth code for
 * users `<name>@acme` (password `pw-<name>`), hands out addresses from 10.8.0.0/24, queues commands
 * until acknowledged, and can go "down" (every call throws BrokerUnavailableError; reports queue).
 */
import type { AgentCommandMessage, AgentSettings, AuthVerdict, Broker, HeartbeatReply, HeartbeatRequest, StartedSession, StartSessionRequest } from '../../../edge-agent/src/broker/broker-client';
import { BrokerRejectedError, BrokerUnavailableError } from '../../../edge-agent/src/broker/http-transport';
import { ntPasswordHash, verifyChapMd5, verifyMsChapV2 } from '../../../contract/src/ppp-auth';
import type { AgentCounters, EndReason } from '../../../functions/src/domain/types';

export interface Report {
  readonly kind: 'interim' | 'stop';
  readonly sessionId: string;
  readonly reason?: EndReason;
  readonly counters: AgentCounters;
}

export class FakeBroker implements Broker {
  available = true;
  /** Thrown by the next startSession calls (e.g. pool-exhausted). */
  startRefusal: BrokerRejectedError | undefined;
  heartbeatIntervalSeconds = 1;
  /** What the next starts hand out instead of the next 10.8.0.x (an old broker, or legacy pools). */
  readonly nextStarts: Partial<StartedSession>[] = [];
  /** Answer starts like a broker from before `block` (cidr only). */
  legacyStartReplies = false;
  /** Answers register and heartbeat with 401 agent-revoked, as the broker does for a revoked agent. */
  revoked = false;
  readonly commands: AgentCommandMessage[] = [];
  readonly heartbeats: HeartbeatRequest[] = [];
  readonly registrations: unknown[] = [];
  readonly starts: StartSessionRequest[] = [];
  readonly authentications: { method: string; username: string; agentSessionRef: string; peerAddress: string }[] = [];
  /** Grants issued, by the agentSessionRef they were issued for (the broker binds them so). */
  private readonly grants = new Map<string, string>();
  readonly delivered: Report[] = [];
  readonly queued: Report[] = [];
  private nextHost = 10;
  private nextSession = 1;

  private check(): void {
    if (!this.available) throw new BrokerUnavailableError('fetch failed (fake broker down)');
  }

  /** Fleet settings as the broker would hand them out; bump `revision` to make the agent reload. */
  revision = 0;
  ipsec: AgentSettings['ipsec'] = null;

  private settingsValue(): AgentSettings {
    return { revision: this.revision, heartbeatIntervalSeconds: this.heartbeatIntervalSeconds, ipsec: this.ipsec };
  }

  private checkCredential(): void {
    if (this.revoked) throw new BrokerRejectedError(401, 'agent-revoked', 'agent agent-test is revoked');
  }

  /** The command-nudge key handed to an agent that reports a nudge port (register and heartbeat). */
  nudgeKey: Uint8Array = Buffer.alloc(32, 0x5a);

  private nudgeKeyFor(port: unknown): { nudgeKey?: string } {
    return typeof port === 'number' && port > 0 ? { nudgeKey: Buffer.from(this.nudgeKey).toString('base64') } : {};
  }

  private nudgePort: unknown;

  async register(request: unknown) {
    this.check();
    this.checkCredential();
    this.registrations.push(request);
    this.nudgePort = (request as { nudgePort?: unknown }).nudgePort;
    return { agentId: 'agent-test', settings: this.settingsValue(), ...this.nudgeKeyFor(this.nudgePort) };
  }

  async heartbeat(request: HeartbeatRequest): Promise<HeartbeatReply> {
    this.check();
    this.checkCredential();
    this.heartbeats.push(request);
    for (const id of request.ackCommandIds ?? []) {
      const at = this.commands.findIndex((c) => c.commandId === id);
      if (at >= 0) this.commands.splice(at, 1);
    }
    return { commands: [...this.commands], settingsRevision: this.revision, heartbeatIntervalSeconds: this.heartbeatIntervalSeconds, ...this.nudgeKeyFor(this.nudgePort) };
  }

  async settings() {
    this.check();
    return this.settingsValue();
  }

  /** Per user: the RADIUS Session-Timeout / Idle-Timeout a RADIUS tenant's Access-Accept would carry. */
  readonly limits = new Map<string, { sessionTimeoutSeconds?: number; idleTimeoutSeconds?: number }>();
  /** Every authentication request as relayed (e.g. the MS-CHAPv2 Identifier). */
  readonly requests: Parameters<Broker['authenticate']>[0][] = [];

  async authenticate(request: Parameters<Broker['authenticate']>[0]): Promise<AuthVerdict> {
    this.check();
    this.requests.push(request);
    this.authentications.push({ method: request.method, username: request.username, agentSessionRef: request.agentSessionRef, peerAddress: request.peerAddress });
    const [user, realm] = request.username.split('@');
    if (realm !== 'acme' || !user) return { ok: false, reason: 'unknown-tenant', retryable: false };
    const password = `pw-${user}`;
    const bytes = (h: string) => Buffer.from(h, 'hex');
    let ok = false;
    let authenticatorResponse: string | undefined;
    if (request.method === 'pap') ok = request.password === password;
    else if (request.method === 'chap-md5') {
      ok = verifyChapMd5({ id: request.id, secret: password, challenge: bytes(request.challenge), response: bytes(request.response) });
    } else {
      const v = await verifyMsChapV2({
        ntHash: await ntPasswordHash(password),
        authenticatorChallenge: bytes(request.authenticatorChallenge),
        peerChallenge: bytes(request.peerChallenge),
        ntResponse: bytes(request.ntResponse),
        username: request.username,
      });
      ok = v.ok;
      if (v.ok) authenticatorResponse = v.authenticatorResponse;
    }
    if (!ok) return { ok: false, reason: 'bad-credentials', retryable: true };
    const grant = `grant-${this.grants.size + 1}-${user}`;
    this.grants.set(request.agentSessionRef, grant);
    return { ok: true, tenantId: 'acme', username: user, grant, ...(authenticatorResponse ? { authenticatorResponse } : {}), ...this.limits.get(user) };
  }

  async startSession(request: StartSessionRequest): Promise<StartedSession> {
    this.check();
    if (this.startRefusal) throw this.startRefusal;
    // Like the broker: a start needs the grant of its own session's authentication.
    if (request.grant !== this.grants.get(request.agentSessionRef)) throw new BrokerRejectedError(403, 'grant-invalid', 'no valid grant');
    this.starts.push(request);
    const reply: StartedSession = {
      sessionId: `sess-${this.nextSession++}`,
      address: `10.8.0.${this.nextHost++}`,
      gateway: '10.8.0.1',
      dns: ['192.0.2.53'],
      poolId: 'main',
      cidr: '10.8.0.0/24',
      created: true,
      ...this.nextStarts.shift(),
    };
    if (this.legacyStartReplies || reply.block !== undefined || reply.cidr === undefined) return reply;
    // Like the broker: the block it parsed, beside the text.
    const [network, prefixLength] = reply.cidr.split('/');
    return { ...reply, block: { network: network!, prefixLength: Number(prefixLength) } };
  }

  async reportInterim(sessionId: string, counters: AgentCounters): Promise<void> {
    this.queued.push({ kind: 'interim', sessionId, counters });
    await this.flushOutbox();
  }

  async reportStop(sessionId: string, reason: EndReason, counters: AgentCounters): Promise<void> {
    this.queued.push({ kind: 'stop', sessionId, reason, counters });
    await this.flushOutbox();
  }

  async flushOutbox() {
    if (!this.available) return { delivered: 0, pending: this.queued.length };
    const n = this.queued.length;
    this.delivered.push(...this.queued.splice(0));
    return { delivered: n, pending: 0 };
  }

  stops(): Report[] {
    return this.delivered.filter((r) => r.kind === 'stop');
  }
}

export { BrokerRejectedError };
