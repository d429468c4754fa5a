/**
 * A password-guessing run against the broker's PPP authentication: 50 wrong MS-CHAPv2 answers lock the user at the
 * threshold, the right password is then refused while the lock lasts, other users are unaffected, and every attempt
 * is recorded as an auth event.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { computeMsChapV2Response } from '../../../functions/src/domain/ppp-auth';
import { createHarness, seedAgent, type Harness } from '../api/harness';

let h: Harness;
let agent: { agentId: string; token: string };
const THRESHOLD = 5;
const LOCK_SECONDS = 900;

before(async () => {
  h = await createHarness({ AUTH_LOCKOUT_THRESHOLD: String(THRESHOLD), AUTH_LOCKOUT_SECONDS: String(LOCK_SECONDS) });
  agent = await seedAgent(h, 'guess-agent');
  for (const tenantId of ['gacme', 'gother']) {
    assert.equal((await h.admin('POST', '/v1/tenants', { tenantId, name: tenantId })).status, 201);
    for (const username of ['victim', 'bystander']) {
      assert.equal((await h.admin('POST', `/v1/tenants/${tenantId}/users`, { username, password: `pw-${username}` })).status, 201);
    }
  }
});
after(async () => {
  await h?.close();
});

async function mschapv2(username: string, password: string) {
  const authenticatorChallenge = randomBytes(16);
  const r = await computeMsChapV2Response({ password, authenticatorChallenge, username });
  const res = await h.call('POST', '/v1/agent/authenticate', {
    token: agent.token,
    body: {
      method: 'mschapv2',
      username,
      authenticatorChallenge: authenticatorChallenge.toString('hex'),
      peerChallenge: r.peerChallenge.toString('hex'),
      ntResponse: r.ntResponse.toString('hex'),
    },
  });
  assert.equal(res.status, 200);
  return res.body as { ok: boolean; reason?: string; lockedUntil?: string };
}

test('50 wrong MS-CHAPv2 answers: locked at the threshold, right password refused while locked, others unaffected', async () => {
  const verdicts = [];
  for (let i = 0; i < 50; i++) verdicts.push(await mschapv2('victim@gacme', `guess-${i}`));
  assert.ok(verdicts.every((v) => v.ok === false));
  assert.deepEqual(
    verdicts.slice(0, THRESHOLD).map((v) => v.reason),
    Array(THRESHOLD).fill('bad-credentials'),
  );
  assert.equal(verdicts[THRESHOLD - 2]!.lockedUntil, undefined);
  assert.ok(verdicts[THRESHOLD - 1]!.lockedUntil, 'the failure that reaches the threshold locks');
  assert.ok(verdicts.slice(THRESHOLD).every((v) => v.reason === 'locked'), 'guesses during the lock are not even checked');
  const lockedUntil = verdicts[THRESHOLD - 1]!.lockedUntil;
  assert.ok(verdicts.slice(THRESHOLD).every((v) => v.lockedUntil === lockedUntil), 'guessing does not extend the lock');

  const right = await mschapv2('victim@gacme', 'pw-victim');
  assert.deepEqual([right.ok, right.reason], [false, 'locked']);

  // Same name in another tenant, and another user of the same tenant, are untouched.
  assert.equal((await mschapv2('bystander@gacme', 'pw-bystander')).ok, true);
  assert.equal((await mschapv2('victim@gother', 'pw-victim')).ok, true);

  const users = await h.admin('GET', '/v1/tenants/gacme/users');
  const victim = users.body.items.find((u: { username: string }) => u.username === 'victim');
  assert.equal(victim.locked, true);
  assert.equal(victim.failedAttempts, 51);
  const bystander = users.body.items.find((u: { username: string }) => u.username === 'bystander');
  assert.deepEqual([bystander.locked, bystander.failedAttempts], [false, 0]);

  // Every attempt is on record: 4 failures, the locking one, then 46 attempts while locked.
  const events: Array<{ kind: string; reason: string; agentId: string }> = [];
  let cursor: string | undefined;
  do {
    const page = await h.admin('GET', `/v1/tenants/gacme/users/victim/auth-events?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    events.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  assert.equal(events.length, 51);
  assert.equal(events.filter((e) => e.kind === 'locked').length, 1);
  assert.equal(events.filter((e) => e.reason === 'locked').length, 51 - THRESHOLD);
  assert.ok(events.every((e) => e.agentId === agent.agentId), 'events name the agent that relayed the attempt');

  // After the lock the right password works and clears the counter.
  h.clock.advance(LOCK_SECONDS * 1000 + 1);
  assert.equal((await mschapv2('victim@gacme', 'pw-victim')).ok, true);
  const after = await h.admin('GET', '/v1/tenants/gacme/users');
  const cleared = after.body.items.find((u: { username: string }) => u.username === 'victim');
  assert.deepEqual([cleared.locked, cleared.failedAttempts], [false, 0]);
});

test('guessing unknown usernames locks nobody and tells nothing beyond "unknown-user"', async () => {
  for (let i = 0; i < 20; i++) {
    const v = await mschapv2(`nobody${i}@gacme`, 'x');
    assert.deepEqual([v.ok, v.reason, v.lockedUntil], [false, 'unknown-user', undefined]);
  }
  assert.equal((await mschapv2('bystander@gacme', 'pw-bystander')).ok, true);
});
