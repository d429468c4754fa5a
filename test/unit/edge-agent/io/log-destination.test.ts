import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { logDestination } from '../../../../edge-agent/src/io/log-destination';

/** A FIFO opened at both ends (non-blocking), as a pipe to a log reader. */
function pipe(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'log-pipe-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'fifo');
  assert.equal(spawnSync('mkfifo', [path]).status, 0);
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  return { reader, writer };
}

test('lines reach the reader whole', (t) => {
  const { reader, writer } = pipe(t);
  const out = logDestination(writer);
  out.write('{"msg":"one"}\n');
  out.write('{"msg":"two"}\n');
  const buffer = Buffer.alloc(100);
  const n = readSync(reader, buffer);
  assert.equal(buffer.toString('utf8', 0, n), '{"msg":"one"}\n{"msg":"two"}\n');
  assert.equal(out.dropped, 0);
  closeSync(reader);
  closeSync(writer);
});

test('a reader that died (EPIPE): writes return at once and are counted, never retried forever', (t) => {
  const { reader, writer } = pipe(t);
  closeSync(reader);
  const out = logDestination(writer);
  const started = Date.now();
  for (let i = 0; i < 1000; i++) out.write('{"msg":"shutting down"}\n');
  assert.ok(Date.now() - started < 1_000, 'no retry loop');
  assert.equal(out.dropped, 1000);
  closeSync(writer);
});

test('a full pipe nobody reads (EAGAIN): the line is dropped after brief retries instead of blocking', (t) => {
  const { reader, writer } = pipe(t);
  const out = logDestination(writer);
  const line = `${'x'.repeat(4095)}\n`;
  for (let i = 0; i < 16; i++) out.write(line); // 64 KiB: the pipe's default capacity
  const before = out.dropped;
  const started = Date.now();
  out.write(line);
  assert.equal(out.dropped, before + 1);
  assert.ok(Date.now() - started < 2_000);
  closeSync(reader);
  closeSync(writer);
});
