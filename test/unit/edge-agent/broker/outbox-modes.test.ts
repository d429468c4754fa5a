/**
 * Issue 14 finding 10: the outbox journal names users (stop reports carry tenant and user), and it
 * was world-readable (0644 in a 0755 directory). Now owner-only, whatever the umask, also after a
 * compaction, and a journal left 0644 by an older agent is tightened when opened.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Outbox } from '../../../../edge-agent/src/broker/outbox';

const mode = (path: string) => statSync(path).mode & 0o777;
const stop = (sessionId: string) => ({ kind: 'stop' as const, sessionId, payload: { reason: 'user-request' }, createdAt: 1, owner: { tenantId: 'acme', username: 'alice' } });

test('a new state directory is 0700 and the journal 0600, even with a permissive umask', (t) => {
  const base = mkdtempSync(join(tmpdir(), 'outbox-modes-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const previous = process.umask(0o000);
  try {
    const dir = join(base, 'state');
    const { outbox } = Outbox.open(dir);
    outbox.put(stop('s1'));
    assert.equal(mode(dir), 0o700);
    assert.equal(mode(join(dir, 'outbox.jsonl')), 0o600);
    outbox.compact();
    assert.equal(mode(join(dir, 'outbox.jsonl')), 0o600, 'the compacted journal replaces the file with the same mode');
  } finally {
    process.umask(previous);
  }
});

test('a journal an older agent left world-readable is made 0600 when opened', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'outbox-modes-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'outbox.jsonl');
  writeFileSync(path, `${JSON.stringify({ op: 'put', ...stop('s1') })}\n`, { mode: 0o644 });
  assert.equal(mode(path), 0o644);
  const { outbox } = Outbox.open(dir);
  assert.equal(outbox.size, 1);
  assert.equal(mode(path), 0o600);
});
