/**
 * Sessions on a live broker as an edge agent makes them (register, MS-CHAPv2 authentication, start
 * with the grant, stop), for the CLI's tests: the CLI only reads and ends them.
 */
import { randomBytes } from 'node:crypto';
import { computeMsChapV2Response } from '../../../contract/src/ppp-auth';
import { fixturePassword } from '../../support/fixture-password';
import type { LiveBroker } from '../../support/live-broker';

export interface FakeAgent {
  readonly agentId: string;
  start(tenantId: string, username: string): Promise<string>;
  stop(sessionId: string): Promise<void>;
  heartbeat(): Promise<{ commands: { type: string }[] }>;
}

export async function registeredAgent(broker: LiveBroker, name: string, publicAddress: string): Promise<FakeAgent> {
  const { agentId, token } = await broker.enrolAgent(name);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const call = async (path: string, body: unknown): Promise<any> => {
    const res = await fetch(`${broker.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  await call('/v1/agent/register', { publicAddress, capacity: 100, version: 'cli-test' });
  let n = 0;
  return {
    agentId,
    async start(tenantId, username) {
      const ref = `${name}-ref-${++n}`;
      const challenge = randomBytes(16);
      const r = await computeMsChapV2Response({ password: fixturePassword(username), authenticatorChallenge: challenge, username: `${username}@${tenantId}` });
      const auth = await call('/v1/agent/authenticate', {
        method: 'mschapv2',
        username: `${username}@${tenantId}`,
        agentSessionRef: ref,
        peerAddress: '198.51.100.7',
        authenticatorChallenge: challenge.toString('hex'),
        peerChallenge: r.peerChallenge.toString('hex'),
        ntResponse: r.ntResponse.toString('hex'),
      });
      if (!auth.ok) throw new Error(`authenticate ${username}@${tenantId}: ${JSON.stringify(auth)}`);
      const started = await call('/v1/agent/sessions', {
        agentSessionRef: ref, tunnelId: n, l2tpSessionId: n, peerAddress: '198.51.100.7:1701', tenantId, username, authMethod: 'mschapv2', grant: auth.grant,
      });
      return started.sessionId as string;
    },
    async stop(sessionId) {
      await call(`/v1/agent/sessions/${sessionId}/stop`, { reason: 'admin-disconnect' });
    },
    heartbeat: () => call('/v1/agent/heartbeat', { activeSessions: 0, counters: { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 }, ackCommandIds: [] }),
  };
}
