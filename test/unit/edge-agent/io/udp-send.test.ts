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
