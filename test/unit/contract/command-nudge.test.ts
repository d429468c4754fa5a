/**
 * The command-nudge codec (contract/src/command-nudge.ts): a byte vector, round trips, and every
 * refusal (forged, another agent's, stale, future, replayed, truncated, padded, garbage) as a value.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  decodeNudge,
  encodeNudge,
  NUDGE_MAX_AGE_MS,
  NUDGE_MAX_BYTES,
  NudgeError,
  NudgeReplayGuard,
  verifyNudge,
  type Nudge,
} from '../../../contract/src/command-nudge';

const KEY = Buffer.alloc(32, 0x11);
const OTHER_KEY = Buffer.alloc(32, 0x22);
const NOW = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const nudge: Nudge = { agentId: 'agent-0011223344556677', sentAt: NOW, nonce: Buffer.alloc(16, 0xab) };
const opts = { agentId: nudge.agentId, keys: [KEY], now: NOW };

function refusal(result: Nudge | NudgeError): string {
  assert.ok(result instanceof NudgeError, `expected a refusal, got ${JSON.stringify(result)}`);
  return result.reason;
}

describe('command nudge codec', () => {
  test('byte layout: magic, sentAt, nonce, id length, id, HMAC-SHA256 of all before it', () => {
    const bytes = Buffer.from(encodeNudge(nudge, KEY));
    assert.equal(bytes.length, 29 + nudge.agentId.length + 32);
    assert.equal(bytes.subarray(0, 4).toString('ascii'), 'TBN1');
    assert.equal(bytes.subarray(4, 12).toString('hex'), '0000019b76daa800');
    assert.equal(bytes.subarray(12, 28).toString('hex'), 'ab'.repeat(16));
    assert.equal(bytes[28], nudge.agentId.length);
    assert.equal(bytes.subarray(29, 29 + nudge.agentId.length).toString('ascii'), nudge.agentId);
    // The tag, recomputed independently from its definition.
    const expected = createHmac('sha256', KEY).update(bytes.subarray(0, 29 + nudge.agentId.length)).digest('hex');
    assert.equal(bytes.subarray(29 + nudge.agentId.length).toString('hex'), expected);
  });

  test('round trip: decode and verify give back what was encoded', () => {
    const bytes = encodeNudge(nudge, KEY);
    const decoded = decodeNudge(bytes);
    assert.ok(!(decoded instanceof NudgeError));
    assert.deepEqual({ agentId: decoded.agentId, sentAt: decoded.sentAt, nonce: Buffer.from(decoded.nonce) }, { ...nudge, nonce: Buffer.from(nudge.nonce) });
    const verified = verifyNudge(bytes, opts);
    assert.ok(!(verified instanceof NudgeError));
    assert.equal(verified.agentId, nudge.agentId);
  });

  test('the previous key is still accepted during a rotation; an unknown key is not', () => {
    assert.ok(!(verifyNudge(encodeNudge(nudge, OTHER_KEY), { ...opts, keys: [KEY, OTHER_KEY] }) instanceof NudgeError));
    assert.equal(refusal(verifyNudge(encodeNudge(nudge, OTHER_KEY), opts)), 'bad-tag');
    assert.equal(refusal(verifyNudge(encodeNudge(nudge, KEY), { ...opts, keys: [] })), 'bad-tag');
  });

  test('forged: any flipped bit anywhere is refused', () => {
    const bytes = Buffer.from(encodeNudge(nudge, KEY));
    for (let i = 0; i < bytes.length; i++) {
      const forged = Buffer.from(bytes);
      forged[i]! ^= 0x01;
      const reason = refusal(verifyNudge(forged, opts));
      assert.ok(['bad-magic', 'truncated', 'bad-agent-id', 'wrong-agent', 'bad-tag', 'stale', 'future'].includes(reason), `byte ${i}: ${reason}`);
    }
  });

  test('another agent\'s nudge, even signed with that agent\'s own key, is refused', () => {
    const theirs = encodeNudge({ ...nudge, agentId: 'agent-ffeeddccbbaa9988' }, OTHER_KEY);
    assert.equal(refusal(verifyNudge(theirs, opts)), 'wrong-agent');
    // Their key used for our id: the tag does not match ours.
    assert.equal(refusal(verifyNudge(encodeNudge(nudge, OTHER_KEY), opts)), 'bad-tag');
  });

  test('stale and future nudges are refused; the edges of the window are accepted', () => {
    const at = (sentAt: number) => verifyNudge(encodeNudge({ ...nudge, sentAt }, KEY), opts);
    assert.equal(refusal(at(NOW - NUDGE_MAX_AGE_MS - 1)), 'stale');
    assert.equal(refusal(at(NOW + NUDGE_MAX_AGE_MS + 1)), 'future');
    assert.ok(!(at(NOW - NUDGE_MAX_AGE_MS) instanceof NudgeError));
    assert.ok(!(at(NOW + NUDGE_MAX_AGE_MS) instanceof NudgeError));
    const huge = Buffer.from(encodeNudge(nudge, KEY));
    huge.writeBigUInt64BE(0xffff_ffff_ffff_ffffn, 4);
    assert.equal(refusal(decodeNudge(huge)), 'future');
  });

  test('truncated at every length, padded, oversized and garbage datagrams are refused, never thrown', () => {
    const bytes = encodeNudge(nudge, KEY);
    for (let n = 0; n < bytes.length; n++) {
      const reason = refusal(verifyNudge(bytes.subarray(0, n), opts));
      assert.ok(reason === 'truncated' || reason === 'bad-magic', `${n} bytes: ${reason}`);
    }
    assert.equal(refusal(verifyNudge(Buffer.concat([bytes, Buffer.from([0])]), opts)), 'truncated');
    assert.equal(refusal(verifyNudge(Buffer.alloc(NUDGE_MAX_BYTES + 1), opts)), 'too-long');
    assert.equal(refusal(verifyNudge(Buffer.from('TBN2'.padEnd(80, 'x')), opts)), 'bad-magic');
    const zeroId = Buffer.from(bytes);
    zeroId[28] = 0;
    assert.equal(refusal(decodeNudge(zeroId)), 'truncated');
    const control = Buffer.from(encodeNudge({ ...nudge, agentId: 'a' }, KEY));
    control[29] = 0x07;
    assert.equal(refusal(decodeNudge(control)), 'bad-agent-id');
    for (let seed = 1; seed < 500; seed++) {
      const junk = Buffer.alloc(seed % 130, seed * 7);
      assert.ok(verifyNudge(junk, opts) instanceof NudgeError);
    }
  });

  test('encode refuses a bad id, nonce, key or time (a caller bug), loudly', () => {
    assert.throws(() => encodeNudge({ ...nudge, agentId: '' }, KEY), RangeError);
    assert.throws(() => encodeNudge({ ...nudge, agentId: 'x'.repeat(65) }, KEY), RangeError);
    assert.throws(() => encodeNudge({ ...nudge, nonce: Buffer.alloc(8) }, KEY), RangeError);
    assert.throws(() => encodeNudge(nudge, Buffer.alloc(16)), RangeError);
    assert.throws(() => encodeNudge({ ...nudge, sentAt: -1 }, KEY), RangeError);
  });
});

describe('NudgeReplayGuard', () => {
  test('a nonce is admitted once; a replay within the window is refused; forgotten after twice the window', () => {
    const guard = new NudgeReplayGuard();
    assert.equal(guard.admit(nudge, NOW), true);
    assert.equal(guard.admit(nudge, NOW + 1000), false);
    assert.equal(guard.admit({ ...nudge, nonce: Buffer.alloc(16, 1) }, NOW + 1000), true);
    // By then the nudge itself is stale (verifyNudge refuses it), so the guard may forget it.
    assert.equal(guard.admit(nudge, NOW + 2 * NUDGE_MAX_AGE_MS + 1), true);
    assert.equal(guard.size, 2, 'the nudge of NOW + 1000 is still remembered');
  });

  test('bounded: past maxEntries the oldest nonces are dropped', () => {
    const guard = new NudgeReplayGuard(NUDGE_MAX_AGE_MS, 100);
    for (let i = 0; i < 250; i++) {
      const nonce = Buffer.alloc(16);
      nonce.writeUInt32BE(i);
      assert.equal(guard.admit({ ...nudge, nonce }, NOW), true);
    }
    assert.equal(guard.size, 100);
  });
});
