/**
 * Issue 15: `allowLegacyProposals` is on by default (docs/ipsec.md), so a fleet that only sets
 * its PSK accepts Windows' hard-coded 3DES-SHA1-MODP1024 proposal. A stored `false` (explicit, or
 * written by the old default) is kept when a later PUT leaves the field out.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_ALLOW_LEGACY_PROPOSALS } from '../../../functions/src/domain/ipsec-settings';
import { createHarness, seedAgent, type Harness } from '../../support/api-harness';

let h: Harness;
let agentToken: string;
before(async () => {
  h = await createHarness();
  agentToken = (await seedAgent(h, 'legacy-default-agent')).token;
});
after(async () => {
  await h?.close();
});

const agentSettings = async () => (await h.call('GET', '/v1/agent/settings', { token: agentToken })).body.ipsec;

describe('allowLegacyProposals default', () => {
  test('the default is on', () => {
    assert.equal(DEFAULT_ALLOW_LEGACY_PROPOSALS, true);
  });

  test('before any PUT the status reports the default; a PUT with only the PSK turns legacy on for agents', async () => {
    const before = await h.admin('GET', '/v1/ipsec');
    assert.deepEqual(before.body, { configured: false, allowLegacyProposals: true, revision: 0 });
    const put = await h.admin('PUT', '/v1/ipsec', { psk: 'only-the-psk-is-set' });
    assert.equal(put.status, 200);
    assert.equal(put.body.allowLegacyProposals, true);
    assert.deepEqual(await agentSettings(), { psk: 'only-the-psk-is-set', allowLegacyProposals: true });
  });

  test('an explicit false is kept by a later PUT without the field; true turns it back on', async () => {
    assert.equal((await h.admin('PUT', '/v1/ipsec', { psk: 'second-psk-value', allowLegacyProposals: false })).body.allowLegacyProposals, false);
    const kept = await h.admin('PUT', '/v1/ipsec', { psk: 'third-psk-value' });
    assert.equal(kept.body.allowLegacyProposals, false, 'an explicit false must survive a PSK rotation');
    assert.deepEqual(await agentSettings(), { psk: 'third-psk-value', allowLegacyProposals: false });
    assert.equal((await h.admin('PUT', '/v1/ipsec', { psk: 'fourth-psk-value', allowLegacyProposals: true })).body.allowLegacyProposals, true);
    assert.equal((await agentSettings()).allowLegacyProposals, true);
  });

  test('a false stored before the change (old default) stays false: the one-time change documented in docs/ipsec.md', async () => {
    const current = await h.testStore.store.getIpsecSettings();
    assert.ok(current);
    // What the old code stored for `PUT {"psk"}`: the old default, indistinguishable from a choice.
    await h.testStore.store.putIpsecSettings({ ...current, allowLegacyProposals: false, revision: current.revision + 1 });
    const rotated = await h.admin('PUT', '/v1/ipsec', { psk: 'fifth-psk-value' });
    assert.equal(rotated.body.allowLegacyProposals, false);
    assert.equal((await h.admin('GET', '/v1/ipsec')).body.allowLegacyProposals, false);
  });
});
