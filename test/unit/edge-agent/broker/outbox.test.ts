import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Outbox } from '../../../../edge-agent/src/broker/outbox';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('pending reports survive a restart and acked ones do not', (t) => {
  const dir = tempDir(t);
  const { outbox } = Outbox.open(dir);
  const first = { kind: 'stop' as const, sessionId: 's1', payload: { reason: 'user-request' }, createdAt: 1 };
  const second = { kind: 'stop' as const, sessionId: 's2', payload: { reason: 'idle-timeout' }, createdAt: 2 };
  outbox.put(first);
  outbox.put(second);
  outbox.ack(first);

  const reopened = Outbox.open(dir).outbox;
  assert.deepEqual(reopened.pending(), [second]);
});

test('a newer interim replaces an older one, and a stop supersedes interims', (t) => {
  const { outbox } = Outbox.open(tempDir(t));
  outbox.put({ kind: 'interim', sessionId: 's1', payload: { bytesIn: 10 }, createdAt: 1 });
  outbox.put({ kind: 'interim', sessionId: 's1', payload: { bytesIn: 20 }, createdAt: 2 });
  assert.deepEqual(outbox.pending().map((r) => r.payload), [{ bytesIn: 20 }]);

  outbox.put({ kind: 'stop', sessionId: 's1', payload: { bytesIn: 25 }, createdAt: 3 });
  outbox.put({ kind: 'interim', sessionId: 's1', payload: { bytesIn: 30 }, createdAt: 4 });
  assert.deepEqual(outbox.pending().map((r) => [r.kind, r.payload]), [['stop', { bytesIn: 25 }]]);
});

test('acking a record that a newer one replaced keeps the newer one', (t) => {
  const { outbox } = Outbox.open(tempDir(t));
  const old = { kind: 'interim' as const, sessionId: 's1', payload: 1, createdAt: 1 };
  outbox.put(old);
  outbox.put({ ...old, payload: 2, createdAt: 2 });
  outbox.ack(old);
  assert.equal(outbox.size, 1);
  assert.equal(outbox.pending()[0]?.payload, 2);
});

test('a torn last line (crash mid-write) is skipped, not fatal', (t) => {
  const dir = tempDir(t);
  Outbox.open(dir).outbox.put({ kind: 'stop', sessionId: 's1', payload: {}, createdAt: 1 });
  appendFileSync(join(dir, 'outbox.jsonl'), '{"op":"put","kind":"st');
  const { outbox, skippedLines } = Outbox.open(dir);
  assert.equal(skippedLines, 1);
  assert.equal(outbox.size, 1);
});

test('compaction keeps exactly the pending records', (t) => {
  const dir = tempDir(t);
  const { outbox } = Outbox.open(dir);
  for (let i = 0; i < 50; i++) {
    const record = { kind: 'stop' as const, sessionId: `s${i}`, payload: i, createdAt: i };
    outbox.put(record);
    if (i % 2 === 0) outbox.ack(record);
  }
  outbox.compact();
  const lines = readFileSync(join(dir, 'outbox.jsonl'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 25);
  assert.deepEqual(Outbox.open(dir).outbox.pending().map((r) => r.sessionId), outbox.pending().map((r) => r.sessionId));
});

test('memory-only reports are delivered like the others but neither journaled nor replayed', (t) => {
  const dir = tempDir(t);
  const { outbox } = Outbox.open(dir);
  const interim = { kind: 'interim' as const, sessionId: 's1', payload: { bytesIn: 10 }, createdAt: 1 };
  outbox.put(interim, { durable: false });
  outbox.put({ kind: 'stop', sessionId: 's2', payload: {}, createdAt: 2 });
  assert.deepEqual(outbox.pending().map((r) => r.sessionId), ['s1', 's2']);
  assert.equal(readFileSync(join(dir, 'outbox.jsonl'), 'utf8').trim().split('\n').length, 1, 'only the stop is on disk');
  outbox.ack(interim);
  assert.equal(readFileSync(join(dir, 'outbox.jsonl'), 'utf8').trim().split('\n').length, 1, 'no ack line for it either');
  assert.deepEqual(Outbox.open(dir).outbox.pending().map((r) => r.sessionId), ['s2']);
});

test('a burst of stop reports in one event-loop turn is on disk at once (replayable), fsynced together after', async (t) => {
  const dir = tempDir(t);
  const { outbox } = Outbox.open(dir);
  for (let i = 0; i < 1_000; i++) outbox.put({ kind: 'stop', sessionId: `s${i}`, payload: { reason: 'tunnel-closed' }, createdAt: i });
  // A process that died right here (before the group fsync) would replay all of them.
  assert.equal(Outbox.open(dir).outbox.size, 1_000);
  await new Promise((resolve) => setImmediate(resolve)); // the group fsync runs, without error
  outbox.ack(outbox.pending()[0]!);
  assert.equal(Outbox.open(dir).outbox.size, 999);
});

test('a state directory that cannot be written: reports stay in memory, and the reason is given once', (t) => {
  const parent = tempDir(t);
  const notADirectory = join(parent, 'file');
  writeFileSync(notADirectory, 'x');
  const { outbox, unwritable } = Outbox.open(join(notADirectory, 'state')); // ENOTDIR, even for root
  assert.match(unwritable?.reason ?? '', /ENOTDIR/);
  assert.equal(outbox.memoryOnly, unwritable);
  const stop = { kind: 'stop' as const, sessionId: 's1', payload: { reason: 'user-request' }, createdAt: 1 };
  outbox.put(stop);
  assert.deepEqual(outbox.pending(), [stop], 'kept for delivery while the process lives');
  outbox.ack(stop);
  assert.equal(outbox.size, 0);
});

test('a journal that becomes unwritable later: later reports stay in memory and the listener hears it once', (t) => {
  const dir = join(tempDir(t), 'state');
  const { outbox, unwritable } = Outbox.open(dir);
  assert.equal(unwritable, undefined);
  const heard: string[] = [];
  outbox.onceUnwritable((problem) => heard.push(problem.reason));
  outbox.put({ kind: 'stop', sessionId: 'before', payload: 1, createdAt: 1 });
  // The directory is replaced by a file: every later open of the journal fails with ENOTDIR.
  rmSync(dir, { recursive: true, force: true });
  writeFileSync(dir, 'not a directory');
  outbox.put({ kind: 'stop', sessionId: 'after-1', payload: 2, createdAt: 2 });
  outbox.put({ kind: 'stop', sessionId: 'after-2', payload: 3, createdAt: 3 });
  assert.deepEqual(outbox.pending().map((r) => r.sessionId), ['before', 'after-1', 'after-2']);
  assert.equal(heard.length, 1);
  assert.match(heard[0]!, /ENOTDIR/);
  for (const record of outbox.pending()) outbox.ack(record);
  assert.equal(outbox.size, 0);
});
