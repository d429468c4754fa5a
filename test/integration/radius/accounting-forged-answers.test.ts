/**
 * Issue 20 (accounting), security: only a genuine Accounting-Response deletes an outbox record.
 * A stand-in server on a real UDP socket (test/support/radius/fake-radius-server.ts) answers
 * every request, but signed with the wrong secret, without a Message-Authenticator, or with a
 * broken Response Authenticator; the record stays in the outbox on DynamoDB Local each time. The
 * negative control, a correctly signed answer, deletes it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { createSecretBox, staticKeyRing } from '../../../functions/src/domain/ppp-auth';
import { putTenantAccounting } from '../../../functions/src/domain/radius-accounting/settings';
import { drainAccountingOutbox } from '../../../functions/src/domain/radius-accounting/sender';
import { RadiusAccountingClient } from '../../../functions/src/radius/accounting/accounting-client';
import { checkRequest, encodeResponse, isRadiusCodecError, RadiusCode } from '../../../functions/src/radius';
import { startFakeRadiusServer, type FakeRadiusServer, type FakeReply } from '../../support/radius/fake-radius-server';
import { leaseFor, session, tenant } from '../../support/store-fixtures';
import { createTestStore, type TestStore } from '../../support/test-store';

const SECRET = Buffer.from('the-real-shared-secret');
let now = 1_000_000;
const clock = { now: () => now };
let t: TestStore;
let server: FakeRadiusServer;
let reply: (raw: Buffer) => FakeReply | Buffer;
const client = new RadiusAccountingClient({ timeoutMs: 200, retries: 1 });
const secretBox = createSecretBox(staticKeyRing({ currentKeyId: 'k1', keys: { k1: Buffer.alloc(32, 9).toString('base64') } }));
const ctx = () => ({ store: t.store, clock, secretBox, log: pino({ level: 'silent' }) });

before(async () => {
  t = await createTestStore({ clock });
  server = await startFakeRadiusServer(SECRET, (_request, raw) => reply(raw));
  await t.store.createTenant(tenant({ tenantId: 'acme' }));
  await putTenantAccounting({ store: t.store, clock, secretBox }, 'acme', { servers: [{ host: '127.0.0.1', port: server.port, secret: SECRET.toString() }] });
  const s = session({ assignedIp: '10.8.0.2', startedAt: now, updatedAt: now, accounting: { interimIntervalSeconds: 60 } });
  await t.store.startSession(s, leaseFor(s));
});
after(async () => {
  await client.close();
  await server.close();
  await t.close();
});

const waiting = async () => t.store.listDueAccountingRecords(Number.MAX_SAFE_INTEGER, 10);

const forgeries: [string, () => FakeReply | 'tamper', RegExp][] = [
  ['signed with another secret', () => ({ code: RadiusCode.AccountingResponse, secret: Buffer.from('an-attackers-guess') }), /bad-message-authenticator/],
  ['without a Message-Authenticator', () => ({ code: RadiusCode.AccountingResponse, messageAuthenticator: false }), /missing-message-authenticator/],
  ['with a tampered Response Authenticator', () => 'tamper', /bad-response-authenticator/],
  ['an Access-Accept instead', () => ({ code: RadiusCode.AccessAccept }), /unexpected-code/],
];

for (const [what, make, reason] of forgeries) {
  test(`an answer ${what} does not delete the record`, async () => {
    const made = make();
    if (made === 'tamper') {
      // A correctly signed answer with one bit of its Response Authenticator flipped.
      reply = (raw) => {
        const good = encodeGood(raw);
        good[4] = good[4]! ^ 1;
        return good;
      };
    } else {
      reply = () => made;
    }
    now += 10 * 60_000; // past any backoff
    const before = (await waiting())[0]!;
    assert.deepEqual(await drainAccountingOutbox(ctx(), client), { delivered: 0, deferred: 1, dropped: 0 });
    const after = (await waiting())[0];
    assert.equal(after?.recordId, before.recordId, 'still waiting');
    assert.equal(after?.attempts, before.attempts + 1);
    assert.match(after?.lastError ?? '', reason);
  });
}

test('negative control: a genuine answer deletes it', async () => {
  reply = () => ({ code: RadiusCode.AccountingResponse });
  now += 10 * 60_000;
  assert.deepEqual(await drainAccountingOutbox(ctx(), client), { delivered: 1, deferred: 0, dropped: 0 });
  assert.deepEqual(await waiting(), []);
});

/** A correctly signed Accounting-Response to `raw`. */
function encodeGood(raw: Buffer): Buffer {
  const request = checkRequest(raw, SECRET);
  if (isRadiusCodecError(request)) throw new Error(request.message);
  const bytes = encodeResponse({ code: RadiusCode.AccountingResponse, identifier: request.identifier, requestAuthenticator: request.authenticator, secret: SECRET, attributes: [] });
  if (isRadiusCodecError(bytes)) throw new Error(bytes.message);
  return bytes;
}
