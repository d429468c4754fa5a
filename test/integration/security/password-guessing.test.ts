/**
 * Password guessing against the broker's PPP authentication (issue 14 #4). Before: five wrong
 * MS-CHAPv2 answers from anywhere locked the user for 15 minutes, so anyone who could reach an
 * agent could lock out any user of any tenant. Now failures count per (user, source address), with
 * growing waits there; the agent's failure rate only shortens those waits' grace; the account-wide
 * lock is opt-in and needs failures from several addresses; a name that does not exist costs the
 * same store work as one that does.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, mschapv2Body, seedAgent, type Harness } from '../../support/api-harness';

const ATTACKER = '203.0.113.66';
const HOME = '198.51.100.10';

interface Verdict {
  ok: boolean;
  reason?: string;
  lockedUntil?: string;
  retryable?: boolean;
}

async function setup(env: Record<string, string> = {}) {
  const h = await createHarness(env);
  const agent = await seedAgent(h, 'guess-agent');
  for (const tenantId of ['gacme', 'gother']) {
    assert.equal((await h.admin('POST', '/v1/tenants', { tenantId, name: tenantId })).status, 201);
    for (const username of ['victim', 'bystander']) {
      assert.equal((await h.admin('POST', `/v1/tenants/${tenantId}/users`, { username, password: `secret-${[...username].reverse().join('')}-1` })).status, 201);
    }
  }
  let ref = 0;
  const attempt = async (name: string, password: string, source: string): Promise<Verdict> => {
    const res = await h.call('POST', '/v1/agent/authenticate', { token: agent.token, body: await mschapv2Body(name, password, `ref-${ref++}`, source) });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as Verdict;
  };
  const user = async (tenantId: string, username: string) =>
    (await h.admin('GET', `/v1/tenants/${tenantId}/users`)).body.items.find((u: { username: string }) => u.username === username);
  return { h, agent, attempt, user };
}

const waitSeconds = (h: Harness, v: Verdict) => (Date.parse(v.lockedUntil!) - h.clock.now()) / 1000;

describe('issue 14 #4: one address cannot lock a user out', () => {
  let t: Awaited<ReturnType<typeof setup>>;
  before(async () => {
    t = await setup();
  });
  after(async () => {
    await t?.h.close();
  });

  test('50 wrong answers from one address: that address waits, longer each time; the user logs in from home at once', async () => {
    const { h, attempt, user } = t;
    const verdicts: Verdict[] = [];
    for (let i = 0; i < 50; i++) verdicts.push(await attempt('victim@gacme', `guess-${i}`, ATTACKER));
    assert.deepEqual(verdicts.slice(0, 5).map((v) => v.reason), Array(5).fill('bad-credentials'));
    assert.ok(verdicts.slice(5).every((v) => v.reason === 'throttled' && v.retryable === true), 'after five, guesses are not even verified');
    assert.equal(waitSeconds(h, verdicts[5]!), 30);
    assert.ok(verdicts.slice(5).every((v) => v.lockedUntil === verdicts[5]!.lockedUntil), 'refused attempts do not extend the wait');

    // The attack of the review: the victim is not locked out, from another address.
    assert.equal((await attempt('victim@gacme', 'secret-mitciv-1', HOME)).ok, true);
    assert.deepEqual([(await user('gacme', 'victim')).locked, (await user('gacme', 'victim')).failedAttempts], [false, 0]);
    // The same name in another tenant, and another user of the tenant, are untouched.
    assert.equal((await attempt('bystander@gacme', 'secret-rednatsyb-1', ATTACKER)).ok, true);
    assert.equal((await attempt('victim@gother', 'secret-mitciv-1', ATTACKER)).ok, true);

    // The attacker's waits grow: 30 s, 60 s, 120 s, 240 s after the 5th, 6th, 7th, 8th failure.
    const waits = [30];
    for (let i = 0; i < 3; i++) {
      h.clock.advance(waits.at(-1)! * 1000);
      const v = await attempt('victim@gacme', `late-${i}`, ATTACKER);
      assert.equal(v.reason, 'bad-credentials', 'one guess after each wait');
      const next = await attempt('victim@gacme', `late-${i}-again`, ATTACKER);
      assert.equal(next.reason, 'throttled');
      waits.push(waitSeconds(h, next));
    }
    assert.deepEqual(waits, [30, 60, 120, 240]);

    // Only verified failures are on record, each naming the agent and the address.
    const events = (await h.admin('GET', '/v1/tenants/gacme/users/victim/auth-events?limit=100')).body.items as Array<{ source: string; reason: string }>;
    assert.equal(events.length, 5 + 3);
    assert.ok(events.every((e) => e.source === ATTACKER && e.reason === 'bad-credentials'));
  });

  test('the right password from the attacking address, once its wait is over, clears that pair', async () => {
    const { h, attempt } = t;
    h.clock.advance(3_600_000);
    assert.equal((await attempt('victim@gacme', 'secret-mitciv-1', ATTACKER)).ok, true);
    for (let i = 0; i < 5; i++) assert.equal((await attempt('victim@gacme', `again-${i}`, ATTACKER)).reason, 'bad-credentials', `free guess ${i + 1} again`);
  });
});

describe('issue 14 #4: an agent under pressure makes every failing pair wait from its first failure', () => {
  test('60 failures a minute through one agent: a new address waits after one failure; a right password still passes', async () => {
    const { h, attempt } = await setup({ AUTH_AGENT_PRESSURE_PER_MINUTE: '20' });
    try {
      // A spray: 20 addresses, each one guess at a different user.
      for (let i = 0; i < 20; i++) assert.equal((await attempt(`user${i}@gacme`, 'Summer2024', `192.0.2.${i + 1}`)).reason, 'unknown-user');
      assert.equal((await attempt('victim@gacme', 'guess', '192.0.2.100')).reason, 'bad-credentials');
      assert.equal((await attempt('victim@gacme', 'guess-2', '192.0.2.100')).reason, 'throttled', 'waits from the first failure');
      assert.equal((await attempt('bystander@gacme', 'secret-rednatsyb-1', '192.0.2.101')).ok, true, 'a user who knows the password is not held back');
      // The pressure passes with the minute (a sliding estimate over this and the last minute).
      h.clock.advance(120_000);
      assert.equal((await attempt('victim@gacme', 'guess-3', '192.0.2.102')).reason, 'bad-credentials');
      assert.equal((await attempt('victim@gacme', 'guess-4', '192.0.2.102')).reason, 'bad-credentials');
    } finally {
      await h.close();
    }
  });
});

describe('issue 14 #4: the account-wide lock (opt-in) needs several addresses and grows', () => {
  test('one address alone never locks; three do; each further lock lasts twice as long; a success clears', async () => {
    const { h, attempt, user } = await setup({ AUTH_LOCKOUT_SOURCES: '3', AUTH_LOCKOUT_THRESHOLD: '10', AUTH_LOCKOUT_SECONDS: '600' });
    try {
      // One address, 30 verified failures (waiting out each delay): no account lock.
      for (let i = 0; i < 30; i++) {
        const v = await attempt('victim@gacme', `g${i}`, ATTACKER);
        assert.equal(v.reason, 'bad-credentials', `failure ${i + 1}`);
        h.clock.advance(900_000);
      }
      let victim = await user('gacme', 'victim');
      assert.deepEqual([victim.failedAttempts, victim.locked], [30, false]);
      assert.equal((await attempt('victim@gacme', 'secret-mitciv-1', HOME)).ok, true, 'one address alone cannot lock the account');

      // Three addresses: the 10th failure locks the account (from the 3rd address on).
      const sources = ['203.0.113.1', '203.0.113.2', '203.0.113.3'];
      let verdict: Verdict = { ok: false };
      for (let i = 0; i < 10; i++) verdict = await attempt('victim@gacme', `d${i}`, sources[i % 3]!);
      assert.equal(verdict.reason, 'bad-credentials');
      assert.equal(waitSeconds(h, verdict), 600, 'first lock: AUTH_LOCKOUT_SECONDS');
      const refused = await attempt('victim@gacme', 'secret-mitciv-1', HOME);
      assert.deepEqual([refused.ok, refused.reason], [false, 'locked'], 'locked: even the right password, from anywhere');
      victim = await user('gacme', 'victim');
      assert.equal(victim.locked, true);

      // The lock expires; failures go on from several addresses: the next lock is twice as long.
      h.clock.advance(600_000);
      for (let i = 0; i < 3; i++) verdict = await attempt('victim@gacme', `e${i}`, `198.18.0.${i + 1}`);
      assert.equal(waitSeconds(h, verdict), 1200, 'second lock: twice as long');
      h.clock.advance(1_200_000);
      assert.equal((await attempt('victim@gacme', 'secret-mitciv-1', HOME)).ok, true);
      victim = await user('gacme', 'victim');
      assert.deepEqual([victim.failedAttempts, victim.locked], [0, false]);
      for (let i = 0; i < 9; i++) verdict = await attempt('victim@gacme', `f${i}`, `198.18.1.${i % 3}`);
      assert.equal(verdict.lockedUntil, undefined, 'a success cleared the count and the lock history');
    } finally {
      await h.close();
    }
  });

  test('AUTH_LOCKOUT_SOURCES=1 is refused at start-up', async () => {
    await assert.rejects(createHarness({ AUTH_LOCKOUT_SOURCES: '1' }), /AUTH_LOCKOUT_SOURCES/);
  });
});

describe('issue 14 #4: an unknown user costs the same store work as a known one', () => {
  test('a wrong password for an existing user and any answer for a missing one send the same DynamoDB requests', async () => {
    const { h, attempt } = await setup();
    const sent: string[] = [];
    h.testStore.client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = (args as { input: Record<string, unknown> }).input;
        const keys = input.RequestItems ? Object.values(input.RequestItems as Record<string, { Keys?: unknown[] }>)[0]?.Keys?.length : undefined;
        sent.push(`${context.commandName}${keys !== undefined ? `(${keys} keys)` : ''}`);
        return next(args);
      },
      { step: 'initialize', name: 'storeWorkRecorder' },
    );
    const workOf = async (name: string, source: string) => {
      sent.length = 0;
      const verdict = await attempt(name, 'wrong', source);
      return { verdict, work: [...sent].sort() };
    };
    try {
      await attempt('victim@gacme', 'warm-up', '192.0.2.200'); // the tenant into the settings cache
      const known = await workOf('victim@gacme', '192.0.2.201');
      const unknown = await workOf('nobody@gacme', '192.0.2.202');
      assert.equal(known.verdict.reason, 'bad-credentials');
      assert.equal(unknown.verdict.reason, 'unknown-user');
      assert.deepEqual(unknown.work, known.work);
      // One batch of reads (agent, user, pair, agent's two minutes), then four writes at once.
      assert.deepEqual(known.work, ['BatchGetItemCommand(5 keys)', 'PutItemCommand', 'UpdateItemCommand', 'UpdateItemCommand', 'UpdateItemCommand']);
      // ... and the same again once each pair has failures on record.
      assert.deepEqual((await workOf('nobody@gacme', '192.0.2.202')).work, (await workOf('victim@gacme', '192.0.2.201')).work);
      // A name that does not exist is not created by counting its failures.
      assert.equal((await h.admin('GET', '/v1/tenants/gacme/users')).body.items.some((u: { username: string }) => u.username === 'nobody'), false);
    } finally {
      h.testStore.client.middlewareStack.remove('storeWorkRecorder');
      await h.close();
    }
  });
});
