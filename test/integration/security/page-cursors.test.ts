/**
 * Issue 14 #7: page cursors were unsigned base64 JSON keys. A forged one reached DynamoDB as an
 * ExclusiveStartKey and answered 500 (six of them tripped the Api5xx alarm); and a filtered session
 * listing that ran out of query rounds handed a tenant key a cursor holding another tenant's
 * session id and start time. Now cursors are signed and bound to their listing and caller (400
 * otherwise), and a listing that names a tenant reads only that tenant's partition.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { sessionIdFor } from '../../../functions/src/domain/session-id';
import type { Session } from '../../../functions/src/domain/types';
import { sessionItem } from '../../../functions/src/store/dynamo/session-items';
import { createHarness, seedAgent, seedTenant, startBody, startGranted, type Harness } from '../../support/api-harness';

let h: Harness;
let acmeKey: string;
let agent: { agentId: string; token: string };
const globexIds = new Set<string>();
const GLOBEX_SESSIONS = 2_100; // more than the 20 query rounds of 100 a page may read

before(async () => {
  h = await createHarness();
  await seedTenant(h, 'acme');
  await seedTenant(h, 'globex', { cidr: '10.50.0.0/16' });
  agent = await seedAgent(h);
  for (const u of ['bob', 'carol']) await h.admin('POST', '/v1/tenants/acme/users', { username: u, password: 'correct horse' });
  for (const [i, u] of ['alice', 'bob', 'carol'].entries()) assert.equal((await startGranted(h, agent.token, startBody(`a${i}`, 'acme', u))).status, 201);
  acmeKey = (await h.admin('POST', '/v1/api-keys', { scope: 'tenant', tenantId: 'acme', name: 'acme' })).body.token;
  // Globex's sessions on the same agent, all newer than acme's, written straight to the table.
  const base = h.clock.now() + 60_000;
  const items = Array.from({ length: GLOBEX_SESSIONS }, (_, i) => {
    const agentSessionRef = `g${i}`;
    globexIds.add(sessionIdFor(agent.agentId, agentSessionRef));
    const s: Session = {
      sessionId: sessionIdFor(agent.agentId, agentSessionRef), tenantId: 'globex', username: 'alice', agentId: agent.agentId, agentSessionRef,
      tunnelId: 1, l2tpSessionId: 1, authMethod: 'mschapv2', poolId: 'main', assignedIp: `10.50.${i >> 8}.${i & 0xff}`, startedAt: base + i, updatedAt: base + i,
      state: 'active', bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0,
    };
    return { PutRequest: { Item: sessionItem(s) } };
  });
  for (let i = 0; i < items.length; i += 25) {
    await h.testStore.client.send(new BatchWriteItemCommand({ RequestItems: { [h.testStore.tableName]: items.slice(i, i + 25) } }));
  }
});
after(async () => {
  await h?.close();
});

const asAcme = (path: string) => h.call('GET', path, { token: acmeKey });
/** The store's part of an API cursor, decoded (cursors are signed, not encrypted). */
const storePart = (cursor: string) => Buffer.from(cursor.split('.')[1]!, 'base64url').toString('utf8');

describe('issue 14 #7: cursors only from items the caller may see', () => {
  test("a tenant key filtering one agent's sessions never gets a cursor naming another tenant's session", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await asAcme(`/v1/sessions?agentId=${agent.agentId}&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      seen.push(...res.body.items.map((s: Session) => s.tenantId));
      cursor = res.body.cursor;
      if (cursor) {
        const named = [...globexIds].filter((id) => storePart(cursor!).includes(id));
        assert.deepEqual(named, [], `the cursor names globex's session: ${storePart(cursor)}`);
      }
      pages++;
    } while (cursor && pages < 10);
    assert.deepEqual(seen, ['acme', 'acme', 'acme']);
  });
});

describe('issue 14 #7: a cursor the listing did not hand out is 400, never 500', () => {
  test('forged, altered, truncated, foreign-listing and foreign-caller cursors', async () => {
    const users = await h.admin('GET', '/v1/tenants/acme/users?limit=1');
    const usersCursor: string = users.body.cursor;
    assert.ok(usersCursor);
    assert.equal((await h.admin('GET', `/v1/tenants/acme/users?limit=1&cursor=${encodeURIComponent(usersCursor)}`)).status, 200, 'a genuine cursor works');
    const sessions = await h.admin('GET', '/v1/sessions?tenantId=acme&limit=1');
    const sessionsCursor: string = sessions.body.cursor;
    // What used to reach DynamoDB: a well-formed key of another partition.
    const forgedKey = Buffer.from(JSON.stringify({ PK: { S: 'SESSION#x' }, SK: { S: 'META' }, GSI1PK: { S: 'TENANT#globex' }, GSI1SK: { S: '0#x' } })).toString('base64url');
    const [kid, raw, mac] = sessionsCursor.split('.') as [string, string, string];
    const bad: Array<[string, string]> = [
      ['/v1/sessions?tenantId=acme', forgedKey],
      ['/v1/sessions?tenantId=acme', `${kid}.${forgedKey}.${mac}`],
      ['/v1/sessions?tenantId=acme', `${kid}.${raw.slice(0, -2)}.${mac}`],
      ['/v1/sessions?tenantId=acme', `${kid}.${raw}.${mac.slice(0, -4)}`],
      ['/v1/sessions?tenantId=acme', `${kid}.${raw}`],
      ['/v1/sessions?tenantId=acme', `nokey.${raw}.${mac}`],
      ['/v1/sessions?tenantId=acme&state=active', sessionsCursor], // same route, other filter
      ['/v1/tenants/acme/users', sessionsCursor], // another listing
      ['/v1/sessions?tenantId=acme', usersCursor],
      ['/v1/agents', sessionsCursor],
    ];
    for (const [path, cursor] of bad) {
      const res = await h.admin('GET', `${path}${path.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}`);
      assert.equal(res.status, 400, `${path} ${cursor.slice(0, 30)}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.field, 'cursor');
    }
    // The fleet admin's cursor is not the tenant key's, even for the same listing.
    const acmeUsers = await asAcme(`/v1/tenants/acme/users?limit=1&cursor=${encodeURIComponent(usersCursor)}`);
    assert.equal(acmeUsers.status, 400);
  });
});
