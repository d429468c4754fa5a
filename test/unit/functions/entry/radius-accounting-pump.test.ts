/**
 * The local stack's accounting pump: a kick never waits for the drain, kicks during a pass are
 * coalesced into one more pass, and a failed pass does not stop the next.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startAccountingPump, type AccountingSender } from '../../../../functions/src/entry/radius-accounting';

const log = pino({ level: 'silent' });
const tick = () => new Promise((r) => setImmediate(r));

function gatedSender() {
  let passes = 0;
  let release: (() => void) | undefined;
  let fail = false;
  const sender: AccountingSender = {
    drain: () => {
      passes++;
      return new Promise((resolve, reject) => {
        release = () => (fail ? reject(new Error('store down')) : resolve({ delivered: 0, deferred: 0, dropped: 0 }));
      });
    },
    close: async () => {},
  };
  return { sender, passes: () => passes, release: () => release?.(), failNext: () => void (fail = true) };
}

test('kicks return at once; kicks during a pass make exactly one more pass', async () => {
  const g = gatedSender();
  const pump = startAccountingPump(g.sender, { intervalMs: 3_600_000, log });
  pump.kick();
  await tick();
  assert.equal(g.passes(), 1, 'the kick started a pass without being awaited');
  pump.kick();
  pump.kick();
  await tick();
  assert.equal(g.passes(), 1, 'no second pass while one runs');
  g.release();
  await tick();
  await tick();
  assert.equal(g.passes(), 2, 'the kicks during the pass made one more');
  g.release();
  await tick();
  await tick();
  assert.equal(g.passes(), 2);
  await pump.stop();
});

test('a failed pass is logged and the next kick drains again; stop() ends it', async () => {
  const g = gatedSender();
  const pump = startAccountingPump(g.sender, { intervalMs: 3_600_000, log });
  g.failNext();
  pump.kick();
  await tick();
  g.release();
  await tick();
  await tick();
  pump.kick();
  await tick();
  assert.equal(g.passes(), 2);
  g.release();
  await pump.stop();
  pump.kick();
  await tick();
  assert.equal(g.passes(), 2, 'no pass after stop');
});
