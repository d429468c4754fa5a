/**
 * UDP GSO on the marked socket (issue 21) against the real kernel: runs of equal-sized datagrams
 * leave as one UDP_SEGMENT message and arrive as the original datagrams, byte for byte, in order,
 * with their marks; a route that refuses the message (here: datagrams above the MTU, in a
 * throwaway namespace; IPsec routes refuse it the same way, see the e2e `tcp-download`) gets the
 * datagrams one by one and is not tried again. Root only; in CI it must run (no skip there).
 */
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openUdp, type OpenedUdp, type RemoteInfo } from '../../../edge-agent/src/io/udp';
import { realTunUnavailable } from '../../support/real-tun';

const probe = process.getuid?.() === 0 ? await openUdp({ address: '127.0.0.1', port: 0, marks: 'auto' }) : undefined;
const cannotRun = probe === undefined ? 'needs root (CAP_NET_ADMIN to set packet marks)' : (probe.marksUnavailable ?? realTunUnavailable());
await probe?.close();
const why = process.env.CI ? undefined : cannotRun;
if (why) console.log(`# skipping segmented UDP tests: ${why}`);

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'segmented-udp-child.ts');

function inbox(socket: OpenedUdp) {
  const got: { data: Buffer; remote: RemoteInfo }[] = [];
  socket.onMessage((data, remote) => got.push({ data: Buffer.from(data), remote }));
  return {
    got,
    async wait(n: number) {
      const until = Date.now() + 5000;
      while (got.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      return got;
    },
  };
}

/** A datagram whose every byte depends on its tag, so a misplaced byte shows. */
function datagram(tag: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = (tag * 31 + i * 7) & 0xff;
  return b;
}

describe('segmented UDP sends (real kernel)', { skip: why }, () => {
  test('runs leave as one message each and arrive as the original datagrams, in order, with their marks', async () => {
    const sender = await openUdp({ address: '127.0.0.1', port: 0, marks: 'auto', segmentation: true });
    const a = await openUdp({ address: '127.0.0.1', port: 0, marks: 'auto', receiveBufferSize: 4 << 20 });
    const b = await openUdp({ address: '127.0.0.1', port: 0, marks: 'auto', receiveBufferSize: 4 << 20 });
    try {
      const atA = inbox(a);
      const atB = inbox(b);
      const sentA: Buffer[] = [];
      const sentB: Buffer[] = [];
      // A TUN super-packet's worth to a (40 x 1,400 + a shorter last), then runs to b and a interleaved.
      for (let i = 0; i < 40; i++) sentA.push(datagram(i, 1400));
      sentA.push(datagram(40, 333));
      for (const d of sentA) sender.sendParts(d.subarray(0, 12), 12, d.subarray(12), a.port, '127.0.0.1', 0x77);
      for (let i = 0; i < 6; i++) {
        const d = datagram(100 + i, 900);
        (i < 3 ? sentB : sentA).push(d);
        sender.send(d, i < 3 ? b.port : a.port, '127.0.0.1', i < 3 ? 0 : 0x77);
      }
      const gotA = await atA.wait(sentA.length);
      const gotB = await atB.wait(sentB.length);
      assert.equal(gotA.length, sentA.length);
      assert.equal(gotB.length, sentB.length);
      gotA.forEach((g, i) => {
        assert.ok(g.data.equals(sentA[i]!), `datagram ${i} to a: same bytes`);
        assert.equal(g.remote.mark, 0x77);
        assert.equal(g.remote.port, sender.port);
      });
      gotB.forEach((g, i) => assert.ok(g.data.equals(sentB[i]!), `datagram ${i} to b: same bytes`));
      assert.deepEqual(sender.segmented, { messages: 3, datagrams: 47, refused: 0 }, '41 + 3 + 3 datagrams in three messages');
    } finally {
      await sender.close();
      await a.close();
      await b.close();
    }
  });

  test('datagrams above the route MTU: refused as one message, sent one by one, never tried again; smaller ones still go as one', () => {
    const ns = `tbgso-${process.pid}`;
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      const run = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', CHILD, '1280'], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(run.status, 0, run.stderr);
      const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as {
        above: { got: string[]; counters: { messages: number; datagrams: number; refused: number } };
        below: { got: string[]; counters: { messages: number; datagrams: number; refused: number } };
        again: { got: string[]; counters: { messages: number; datagrams: number; refused: number } };
        errors: string[];
        marks: boolean;
      };
      assert.equal(result.marks, true);
      const tags = (got: string[]) => got.map((g) => g.replace(/\.+$/, ''));
      assert.deepEqual(tags(result.above.got), Array.from({ length: 10 }, (_, i) => `big${i}`), 'all 10 arrived (fragmented and reassembled), in order');
      assert.ok(result.above.got.every((g) => g.length === 1380));
      assert.deepEqual(result.above.counters, { messages: 0, datagrams: 0, refused: 1 });
      assert.deepEqual(tags(result.below.got), Array.from({ length: 10 }, (_, i) => `small${i}`));
      assert.deepEqual(result.below.counters, { messages: 1, datagrams: 10, refused: 1 }, 'below the MTU: one message');
      assert.deepEqual(tags(result.again.got), Array.from({ length: 10 }, (_, i) => `big-again${i}`));
      assert.deepEqual(result.again.counters, { messages: 1, datagrams: 10, refused: 1 }, 'the refusing destination is not tried again');
      assert.deepEqual(result.errors, [], 'a refusal is not a send error');
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
    }
  });
});
