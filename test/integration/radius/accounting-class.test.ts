/**
 * Issue 20, auth and accounting together, against two real FreeRADIUS servers (the auth helper's
 * harness for Access-Request, ours for accounting): the Class of the Access-Accept is kept with
 * the session and comes back in its Start and Stop, byte for byte (RFC 2865 §5.25), under the
 * User-Name the authentication used.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { parseAccountingSenderConfig } from '../../../functions/src/config';
import { createSecretBox, staticKeyRing } from '../../../functions/src/domain/ppp-auth';
import { createAccountingSender, type AccountingSender } from '../../../functions/src/entry/radius-accounting';
import { createHarness, seedAgent, seedTenant, type Harness } from '../../support/api-harness';
import { freeRadiusUnavailable, startFreeRadius, type FreeRadius } from '../../support/radius/freeradius';
import { startFreeRadiusAccounting, type FreeRadiusAccounting } from '../../support/radius/freeradius-accounting';

const SECRET = 'radius-shared-secret-2';
const CLASS = 'acct-class-42';

// Skipped on a machine without FreeRADIUS, but in CI (CI set by .ci/run, which installs it) it fails instead.
describe('Class from Access-Accept to accounting', { skip: process.env.CI ? undefined : freeRadiusUnavailable() }, () => {
  let h: Harness;
  let auth: FreeRadius;
  let acct: FreeRadiusAccounting;
  let sender: AccountingSender;
  let agent: { agentId: string; token: string };

  before(async () => {
    auth = await startFreeRadius({ secret: SECRET, users: [{ username: 'carol@radco', password: 'carol-radius-pw', reply: [`Class = "${CLASS}"`] }, { username: 'dave@radco', password: 'dave-radius-pw' }] });
    acct = await startFreeRadiusAccounting({ secret: SECRET });
    h = await createHarness();
    await seedTenant(h, 'radco', { cidr: '10.78.0.0/24' });
    agent = await seedAgent(h);
    const setAuth = await h.admin('PUT', '/v1/tenants/radco/auth', { kind: 'radius', servers: [{ host: '127.0.0.1', port: auth.port, secret: SECRET, timeoutMs: 1000, retries: 1 }] });
    assert.equal(setAuth.status, 200, JSON.stringify(setAuth.body));
    const setAcct = await h.admin('PUT', '/v1/tenants/radco/accounting', { servers: [{ host: '127.0.0.1', port: acct.port, secret: SECRET }] });
    assert.equal(setAcct.status, 200, JSON.stringify(setAcct.body));
    h.clock.advance(10_000); // past the settings cache
    const keys = h.config.dataKeys;
    const secretBox = createSecretBox(staticKeyRing({ currentKeyId: keys[0]!.keyId, keys: Object.fromEntries(keys.map((k) => [k.keyId, k.keyBase64])) }));
    sender = createAccountingSender({
      store: h.testStore.store,
      clock: h.clock,
      secretBox,
      config: parseAccountingSenderConfig({ RADIUS_ACCT_TIMEOUT_MS: '1000', RADIUS_ACCT_RETRIES: '1' }),
      log: pino({ level: 'silent' }),
    });
  });
  after(async () => {
    await sender?.close();
    await h?.close();
    await auth?.stop();
    await acct?.close();
  });

  /** PAP through the broker's agent route, then the start with its grant. */
  async function papSession(username: string, password: string, ref: string): Promise<string> {
    const res = await h.call('POST', '/v1/agent/authenticate', { token: agent.token, body: { method: 'pap', username, password, agentSessionRef: ref, peerAddress: '198.51.100.30' } });
    assert.equal(res.body.ok, true, JSON.stringify(res.body));
    const start = await h.call('POST', '/v1/agent/sessions', {
      token: agent.token,
      body: { agentSessionRef: ref, tunnelId: 3, l2tpSessionId: 4, tenantId: 'radco', username: res.body.username, authMethod: 'pap', grant: res.body.grant },
    });
    assert.equal(start.status, 201, JSON.stringify(start.body));
    return start.body.sessionId as string;
  }

  const detailOf = (id: string) => acct.records().map((r) => r.attributes).filter((a) => a['Acct-Session-Id'] === id);

  test("the Access-Accept's Class comes back in Start and Stop", async () => {
    const id = await papSession('carol@radco', 'carol-radius-pw', 'class-1');
    h.clock.advance(5_000);
    assert.equal((await h.call('POST', `/v1/agent/sessions/${id}/stop`, { token: agent.token, body: { reason: 'user-request' } })).status, 200);
    assert.deepEqual(await sender.drain(), { delivered: 2, deferred: 0, dropped: 0 });
    const hex = `0x${Buffer.from(CLASS).toString('hex')}`;
    assert.deepEqual(detailOf(id).map((a) => [a['Acct-Status-Type'], a['Class'], a['User-Name']]), [
      ['Start', hex, 'carol@radco'],
      ['Stop', hex, 'carol@radco'],
    ]);
  });

  test('no Class in the Access-Accept, none in accounting (negative control)', async () => {
    const id = await papSession('dave@radco', 'dave-radius-pw', 'class-2');
    await sender.drain();
    const [start] = detailOf(id);
    assert.equal(start?.['Acct-Status-Type'], 'Start');
    assert.equal(start?.['Class'], undefined);
  });
});
