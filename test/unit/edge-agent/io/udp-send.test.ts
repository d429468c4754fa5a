import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openUdp } from '../../../../edge-agent/src/io/udp';

test('UDP send: to an IP literal (answered without a DNS tick) and to a host name (still resolved)', async () => {
  const a = await openUdp({ address: '127.0.0.1', port: 0 });
  const b = await openUdp({ address: '127.0.0.1', port: 0 });
  try {
    const got: string[] = [];
    const arrived = new Promise<void>((resolve) =>
      b.onMessage((data, remote) => {
        got.push(`${data.toString()} from ${remote.address}:${remote.port}`);
        if (got.length === 2) resolve();
      }),
    );
    a.send(Buffer.from('literal'), b.port, '127.0.0.1');
    a.send(Buffer.from('name'), b.port, 'localhost');
    await arrived;
    assert.deepEqual(got.sort(), [`literal from 127.0.0.1:${a.port}`, `name from 127.0.0.1:${a.port}`]);
  } finally {
    await a.close();
    await b.close();
  }
});

test('UDP sendParts (node:dgram): the datagram is the head then the body, both copied before return', async () => {
  const a = await openUdp({ address: '127.0.0.1', port: 0 });
  const b = await openUdp({ address: '127.0.0.1', port: 0 });
  try {
    const got: string[] = [];
    const arrived = new Promise<void>((resolve) =>
      b.onMessage((data) => {
        got.push(data.toString());
        if (got.length === 2) resolve();
      }),
    );
    const head = Buffer.from('HEAD-unused');
    const body = Buffer.from('body');
    a.sendParts(head, 4, body, b.port, '127.0.0.1');
    head.fill(0x21);
    body.fill(0x21); // reused at once, like the TUN's read buffer
    a.sendParts(Buffer.from('H2'), 2, Buffer.from('b2'), b.port, 'localhost');
    await arrived;
    assert.deepEqual(got.sort(), ['H2b2', 'HEADbody']);
  } finally {
    await a.close();
    await b.close();
  }
});
