import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LinkConfigError, TunError } from '../../../../edge-agent/src/io/errors';
import { createFakeTun } from '../../../../edge-agent/src/io/fake-tun';
import { FakeUdpNetwork } from '../../../../edge-agent/src/io/fake-udp';
import { createLinkConfig, execFileRunner, type CommandRunner } from '../../../../edge-agent/src/io/link-config';
import { openTun, tunNameProblem } from '../../../../edge-agent/src/io/tun';
import { openUdp } from '../../../../edge-agent/src/io/udp';

describe('FakeTun', () => {
  test('injected packets reach the handler; writes reach the peer as copies', async () => {
    const { device, peer } = createFakeTun('tb0');
    const seen: string[] = [];
    device.onPacket((p) => seen.push(p.toString('hex')));
    peer.inject(Buffer.from('4500', 'hex'));
    assert.deepEqual(seen, ['4500']);
    const out = Buffer.from([1, 2, 3]);
    const next = peer.nextWrite();
    assert.equal(device.write(out), true);
    out[0] = 9;
    assert.deepEqual([...(await next)], [1, 2, 3]);
    assert.equal(device.writeMany([Buffer.from([4]), Buffer.from([5]), Buffer.from([6])], 2), 2);
    assert.equal(peer.written.length, 3);
  });

  test('the packet view is reused: a handler that keeps it sees it poisoned', () => {
    const { device, peer } = createFakeTun();
    let kept: Buffer | undefined;
    device.onPacket((p) => (kept = p));
    peer.inject(Buffer.from([0x45, 0, 0, 20]));
    assert.deepEqual([...kept!], [0xee, 0xee, 0xee, 0xee]);
  });

  test('failed writes and close', async () => {
    const { device, peer } = createFakeTun();
    peer.failWrites = true;
    assert.equal(device.write(Buffer.from([1])), false);
    peer.failWrites = false;
    await device.close();
    assert.equal(peer.closed, true);
    assert.equal(device.write(Buffer.from([1])), false);
  });
});

describe('FakeUdpNetwork', () => {
  test('delivers between bound sockets asynchronously with the sender address', async () => {
    const net = new FakeUdpNetwork();
    const server = net.bind('192.0.2.1', 1701);
    const client = net.bind('198.51.100.7');
    const got = new Promise<[string, string, number]>((resolve) => server.onMessage((d, r) => resolve([d.toString(), r.address, r.port])));
    let delivered = false;
    void got.then(() => (delivered = true));
    client.send(Buffer.from('hello'), 1701, '192.0.2.1');
    assert.equal(delivered, false);
    assert.deepEqual(await got, ['hello', '198.51.100.7', client.port]);
  });

  test('address in use, drops, undeliverable count, close', async () => {
    const net = new FakeUdpNetwork();
    const a = net.bind('192.0.2.1', 1701);
    assert.throws(() => net.bind('192.0.2.1', 1701), /address in use/);
    const b = net.bind('192.0.2.2', 1701);
    let count = 0;
    a.onMessage(() => count++);
    net.dropIf = (data) => data[0] === 0;
    b.send(Buffer.from([0]), 1701, '192.0.2.1');
    b.send(Buffer.from([1]), 1701, '192.0.2.1');
    b.send(Buffer.from([1]), 9, '192.0.2.9');
    await new Promise((r) => setImmediate(r));
    assert.equal(count, 1);
    assert.equal(net.undeliverable, 1);
    await a.close();
    net.bind('192.0.2.1', 1701);
  });
});

describe('UDP adapter (loopback)', () => {
  test('two real sockets exchange a datagram; binding a taken port fails with UdpError', async () => {
    const a = await openUdp({ address: '127.0.0.1', port: 0 });
    const b = await openUdp({ address: '127.0.0.1', port: 0, receiveBufferSize: 1 << 20 });
    try {
      const got = new Promise<[string, number]>((resolve) => b.onMessage((d, r) => resolve([d.toString(), r.port])));
      a.send(Buffer.from('l2tp'), b.port, '127.0.0.1');
      assert.deepEqual(await got, ['l2tp', a.port]);
      await assert.rejects(openUdp({ address: '127.0.0.1', port: a.port }), (e: Error) => e.name === 'UdpError' && /EADDRINUSE/.test(e.message));
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('link configuration', () => {
  const settings = { name: 'tb0', mtu: 1400, addresses: ['10.8.0.1/32', '10.9.0.1/32'], routes: ['10.8.0.0/24', '10.9.0.0/24'] };

  test('configure runs the ip commands in order', async () => {
    const calls: string[] = [];
    const runner: CommandRunner = async (file, args) => (calls.push([file, ...args].join(' ')), '');
    await createLinkConfig({ runner }).configure(settings);
    assert.deepEqual(calls, [
      'ip link set dev tb0 mtu 1400',
      'ip address replace 10.8.0.1/32 dev tb0',
      'ip address replace 10.9.0.1/32 dev tb0',
      'ip link set dev tb0 up',
      'ip route replace 10.8.0.0/24 dev tb0',
      'ip route replace 10.9.0.0/24 dev tb0',
    ]);
  });

  test('a failing command stops configuration and is named in the error', async () => {
    const calls: string[] = [];
    const runner: CommandRunner = async (file, args) => {
      const line = [file, ...args].join(' ');
      calls.push(line);
      if (args[0] === 'address') throw new LinkConfigError(line, 'RTNETLINK answers: Operation not permitted', 2);
      return '';
    };
    await assert.rejects(createLinkConfig({ runner }).configure(settings), /command failed: ip address replace 10.8.0.1\/32 dev tb0: RTNETLINK answers: Operation not permitted/);
    assert.equal(calls.length, 2);
  });

  test('teardown ignores a vanished device but reports other failures', async () => {
    const gone: CommandRunner = async (file, args) => {
      throw new LinkConfigError([file, ...args].join(' '), 'Cannot find device "tb0"', 1);
    };
    await createLinkConfig({ runner: gone }).teardown(settings);
    const denied: CommandRunner = async (file, args) => {
      throw new LinkConfigError([file, ...args].join(' '), 'RTNETLINK answers: Operation not permitted', 2);
    };
    await assert.rejects(createLinkConfig({ runner: denied }).teardown(settings), /ip route del 10.8.0.0\/24 dev tb0/);
  });

  test('rejects option-like arguments and bad MTUs before running anything', async () => {
    const runner: CommandRunner = async () => assert.fail('must not run');
    await assert.rejects(createLinkConfig({ runner }).configure({ ...settings, routes: ['-batch'] }), LinkConfigError);
    await assert.rejects(createLinkConfig({ runner }).configure({ ...settings, mtu: 100 }), /MTU/);
  });

  test('the real runner names the command and stderr when the program fails', async () => {
    await assert.rejects(execFileRunner()('ip', ['link', 'set', 'dev', 'no-such-if-xyz', 'up']), (e: LinkConfigError) => {
      assert.ok(e instanceof LinkConfigError);
      assert.equal(e.command, 'ip link set dev no-such-if-xyz up');
      assert.match(e.message, /no-such-if-xyz/);
      return true;
    });
    await assert.rejects(execFileRunner()('/nonexistent/ip', ['link']), (e: LinkConfigError) => e.command === '/nonexistent/ip link' && /ENOENT/.test(e.message));
  });
});

describe('TUN name validation and open errors (no privileges needed)', () => {
  test('tunNameProblem follows the kernel rules', () => {
    assert.equal(tunNameProblem('tb0'), undefined);
    assert.equal(tunNameProblem('tb%d'), undefined);
    assert.match(tunNameProblem('')!, /empty/);
    assert.match(tunNameProblem('a'.repeat(16))!, /16 bytes; the limit is 15/);
    assert.match(tunNameProblem('a/b')!, /'\/'/);
    assert.match(tunNameProblem('a b')!, /whitespace/);
    assert.match(tunNameProblem('..')!, /reserved/);
  });

  test('openTun rejects an invalid name before touching the system', async () => {
    await assert.rejects(openTun({ name: 'way-too-long-name0' }), (e: TunError) => e instanceof TunError && e.code === 'invalid-name');
  });

  test('a missing clone device gives the no-tun-device error', async () => {
    await assert.rejects(openTun({ name: 'tb0', devicePath: '/nonexistent/tun' }), (e: TunError) => e.code === 'no-tun-device' && /modprobe tun/.test(e.message));
  });
});
