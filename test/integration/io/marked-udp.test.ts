/**
 * The marked L2TP socket on real sockets (loopback): every datagram's packet mark in (SO_RCVMARK)
 * and out (an SO_MARK control message per datagram), IPv4 and dual-stack IPv6. Needs root
 * (CAP_NET_ADMIN for SO_MARK) and Linux >= 5.19 (SO_RCVMARK); skips with the reason otherwise.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { executionAsyncId } from 'node:async_hooks';
import { openUdp, type OpenedUdp, type RemoteInfo } from '../../../edge-agent/src/io/udp';

const probe = process.getuid?.() === 0 ? await openUdp({ address: '127.0.0.1', port: 0, marks: 'auto' }) : undefined;
const why = probe === undefined ? 'needs root (CAP_NET_ADMIN to set packet marks)' : probe.marksUnavailable;
await probe?.close();
if (why) console.log(`# skipping marked socket tests: ${why}`);

function inbox(socket: OpenedUdp) {
  const got: { data: string; remote: RemoteInfo }[] = [];
  socket.onMessage((data, remote) => got.push({ data: data.toString(), remote }));
  return {
    got,
    async wait(n: number) {
      const until = Date.now() + 3000;
      while (got.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      return got;
    },
  };
}

describe('marked UDP socket (real)', { skip: why }, () => {
  test('each datagram arrives with the mark it was sent with; unmarked ones with 0', async () => {
    const a = await openUdp({ address: '127.0.0.1', port: 0, marks: 'auto' });
    const b = await openUdp({ address: '127.0.0.1', port: 0, marks: 'auto' });
    try {
      assert.equal(a.marks, true);
      const atB = inbox(b);
      a.send(Buffer.from('one'), b.port, '127.0.0.1', 1);
      a.send(Buffer.from('two'), b.port, '127.0.0.1', 0xfffffffe);
      a.send(Buffer.from('plain'), b.port, '127.0.0.1');
      const got = await atB.wait(3);
      assert.deepEqual(
        got.map((g) => `${g.data} ${g.remote.address}:${g.remote.port} #${g.remote.mark}`),
        [`one 127.0.0.1:${a.port} #1`, `two 127.0.0.1:${a.port} #4294967294`, `plain 127.0.0.1:${a.port} #0`],
      );
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('replies from inside the handler, and bursts larger than one batch, all arrive in order', async () => {
    // Room for the whole burst: a tiny datagram still costs ~1 KiB of receive buffer.
    const server = await openUdp({ address: '127.0.0.1', port: 0, marks: 'auto', receiveBufferSize: 1 << 20 });
    const client = await openUdp({ address: '127.0.0.1', port: 0, marks: 'auto', receiveBufferSize: 1 << 20 });
    try {
      server.onMessage((data, remote) => server.send(data, remote.port, remote.address, (remote.mark ?? 0) + 1));
      const atClient = inbox(client);
      for (let i = 0; i < 300; i++) client.send(Buffer.from(String(i)), server.port, '127.0.0.1', 10);
      const got = await atClient.wait(300);
      assert.equal(got.length, 300);
      assert.deepEqual(got.map((g) => Number(g.data)), [...Array(300).keys()]);
      assert.ok(got.every((g) => g.remote.mark === 11 && g.remote.port === server.port));
    } finally {
      await server.close();
      await client.close();
    }
  });

  // The poll callback comes from koffi outside any Node callback scope (executionAsyncId() 0):
  // handlers must not run there, but in a scope of their own, as node:dgram 'message' listeners do.
  test('handlers run in a Node callback scope, and their promise jobs before the next callback', async () => {
    const server = await openUdp({ address: '127.0.0.1', port: 0, marks: 'auto' });
    const client = await openUdp({ address: '127.0.0.1', port: 0, marks: 'auto' });
    try {
      const order: string[] = [];
      let asyncId = -1;
      const done = new Promise<void>((resolve) =>
        server.onMessage(() => {
          asyncId = executionAsyncId();
          setImmediate(() => {
            order.push('next callback');
            resolve();
          });
          void Promise.resolve().then(() => order.push('promise job'));
        }),
      );
      client.send(Buffer.from('x'), server.port, '127.0.0.1');
      await done;
      assert.notEqual(asyncId, 0, 'the handler ran outside any callback scope');
      assert.deepEqual(order, ['promise job', 'next callback']);
    } finally {
      await server.close();
      await client.close();
    }
  });

  test('a dual-stack socket sees IPv4 peers as ::ffff:a.b.c.d and answers them, mark included', async () => {
    const dual = await openUdp({ address: '::', port: 0, marks: 'auto' });
    const v4 = await openUdp({ address: '127.0.0.1', port: 0, marks: 'auto' });
    try {
      assert.equal(dual.marks, true);
      const seen: string[] = [];
      dual.onMessage((data, remote) => {
        seen.push(`${remote.address} #${remote.mark}`);
        dual.send(Buffer.from(`re ${data}`), remote.port, remote.address, remote.mark);
      });
      const atV4 = inbox(v4);
      v4.send(Buffer.from('hi'), dual.port, '127.0.0.1', 5);
      const got = await atV4.wait(1);
      assert.deepEqual(seen, ['::ffff:127.0.0.1 #5']);
      assert.deepEqual(got.map((g) => `${g.data} #${g.remote.mark} ${g.remote.address}`), ['re hi #5 127.0.0.1']);
    } finally {
      await dual.close();
      await v4.close();
    }
  });

  test('marks off: node:dgram, no marks either way', async () => {
    const a = await openUdp({ address: '127.0.0.1', port: 0, marks: 'off' });
    const b = await openUdp({ address: '127.0.0.1', port: 0, marks: 'auto' });
    try {
      assert.equal(a.marks, false);
      const atA = inbox(a);
      const atB = inbox(b);
      a.send(Buffer.from('from dgram'), b.port, '127.0.0.1', 9);
      b.send(Buffer.from('to dgram'), a.port, '127.0.0.1', 9);
      assert.equal((await atB.wait(1))[0]?.remote.mark, 0, 'dgram cannot set a mark');
      assert.equal((await atA.wait(1))[0]?.remote.mark, undefined, 'dgram cannot read one');
    } finally {
      await a.close();
      await b.close();
    }
  });
});
