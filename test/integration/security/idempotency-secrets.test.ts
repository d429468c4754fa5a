/**
 * Issue 14 #5: `Idempotency-Key` stored the first response of a POST for 24 h and replayed it, so
 * `POST /v1/api-keys` left `"token":"tbk_..."` in clear in the table and handed it to every retry;
 * the same for agent enrolment and credential rotation. Now a response that carries a credential
 * is never stored: the record holds a 409 naming what was created, and that is what a retry gets.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { SECRET_RESPONSE_FIELDS } from '../../../functions/src/domain/idempotency';
import { ADMIN_TOKEN, createHarness, mschapv2Body, seedAgent, seedTenant, type Harness } from '../../support/api-harness';

let h: Harness;
before(async () => {
  h = await createHarness();
  await seedTenant(h, 'acme');
});
after(async () => {
  await h?.close();
});

/** Every attribute value of every item of the table, as one string. */
async function tableText(): Promise<string> {
  const out = await h.testStore.client.send(new ScanCommand({ TableName: h.testStore.tableName }));
  return JSON.stringify(out.Items ?? []);
}

describe('issue 14 #5: credentials are never stored or replayed for an Idempotency-Key', () => {
  const cases: Array<{ name: string; call: (key: string) => Promise<{ status: number; body: any }>; id: (body: any) => string }> = [
    { name: 'POST /v1/api-keys', call: (key) => h.call('POST', '/v1/api-keys', { token: ADMIN_TOKEN, body: { scope: 'tenant', tenantId: 'acme', name: 'ci' }, headers: { 'idempotency-key': key } }), id: (b) => b.apiKey.keyId },
    { name: 'POST /v1/agents', call: (key) => h.call('POST', '/v1/agents', { token: ADMIN_TOKEN, body: { name: 'edge-idem' }, headers: { 'idempotency-key': key } }), id: (b) => b.agentId },
  ];
  for (const c of cases) {
    test(`${c.name}: the token is not in the table, and a retry is 409 without it`, async () => {
      const key = c.name.replace(/\W+/g, '-');
      const first = await c.call(key);
      assert.equal(first.status, 201);
      const token: string = first.body.token;
      assert.match(token, /^tb[ka]_/);
      const text = await tableText();
      const secret = /^tb[ka]_[^_]+_(.+)$/.exec(token)![1]!; // ids never hold '_'; secrets may
      assert.ok(!text.includes(token) && !text.includes(secret), 'the credential is not stored anywhere');

      const replay = await c.call(key);
      assert.equal(replay.status, 409);
      assert.equal(replay.body.error.code, 'credential-not-replayed');
      assert.equal(replay.body.error.field, 'Idempotency-Key');
      assert.ok(replay.body.error.message.includes(c.id(first.body)), 'names what the first request created');
      assert.ok(!JSON.stringify(replay.body).includes(token));
    });
  }

  test('POST /v1/agents/{agentId}/rotate-credential: same', async () => {
    const agent = await seedAgent(h, 'edge-rotate');
    const rotate = () => h.call('POST', `/v1/agents/${agent.agentId}/rotate-credential`, { token: ADMIN_TOKEN, headers: { 'idempotency-key': 'rot-1' } });
    const first = await rotate();
    assert.equal(first.status, 200);
    assert.ok(!(await tableText()).includes(first.body.token));
    const replay = await rotate();
    assert.equal(replay.status, 409);
    assert.equal(replay.body.error.code, 'credential-not-replayed');
    assert.ok(!JSON.stringify(replay.body).includes(first.body.token));
  });

  test('POST /v1/agent/authenticate from an agent: the grant is not stored either', async () => {
    const agent = await seedAgent(h, 'edge-auth');
    const body = await mschapv2Body('alice@acme', 'correct horse', 'ref-idem');
    const auth = () => h.call('POST', '/v1/agent/authenticate', { token: agent.token, body, headers: { 'idempotency-key': 'auth-1' } });
    const first = await auth();
    assert.equal(first.body.ok, true);
    assert.ok(!(await tableText()).includes(first.body.grant));
    assert.equal((await auth()).body.error.code, 'credential-not-replayed');
  });

  test('answers without a credential are still replayed as before', async () => {
    const headers = { 'idempotency-key': 'tenant-1' };
    const first = await h.call('POST', '/v1/tenants', { token: ADMIN_TOKEN, body: { tenantId: 'idem-ok', name: 'x' }, headers });
    const again = await h.call('POST', '/v1/tenants', { token: ADMIN_TOKEN, body: { tenantId: 'idem-ok', name: 'x' }, headers });
    assert.deepEqual([first.status, again.status, again.headers.get('idempotent-replayed')], [201, 201, 'true']);
  });

  test('every credential field the API documents is one the idempotency layer withholds', async () => {
    const doc = (await h.call('GET', '/openapi.json')).body;
    const credentialFields = new Set<string>();
    const seen = new Set<unknown>();
    // Response schemas of every POST, following $refs: a property that is a credential by its name
    // or its description must be one the idempotency layer knows.
    const walk = (schema: any): void => {
      if (typeof schema !== 'object' || schema === null || seen.has(schema)) return;
      seen.add(schema);
      if (typeof schema.$ref === 'string') return walk(doc.components.schemas[schema.$ref.split('/').at(-1)]);
      for (const [name, prop] of Object.entries<any>(schema.properties ?? {})) {
        if (/^(token|grant|psk|password|secret)$/.test(name) || /shown only|in clear|bearer/i.test(String(prop?.description ?? ''))) credentialFields.add(name);
      }
      for (const v of Object.values(schema)) if (typeof v === 'object') walk(v);
    };
    for (const ops of Object.values<any>(doc.paths)) {
      for (const [status, res] of Object.entries<any>(ops.post?.responses ?? {})) if (status.startsWith('2')) walk(res.content?.['application/json']?.schema);
    }
    assert.ok(credentialFields.has('token') && credentialFields.has('grant'), [...credentialFields].join(','));
    for (const f of credentialFields) assert.ok(SECRET_RESPONSE_FIELDS.includes(f), `${f} is documented as a credential but would be stored`);
  });
});
