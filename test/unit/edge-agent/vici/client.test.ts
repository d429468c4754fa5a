import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import {
  connectVici,
  encodePacket,
  listSas,
  loadSharedIke,
  terminateIke,
  ViciClosedError,
  ViciCommandError,
  ViciConnectError,
  ViciProtocolError,
  ViciTimeoutError,
  ViciUnknownCommandError,
  ViciUnknownEventError,
  type ViciMessage,
} from '../../../../edge-agent/src/vici';
import { startFakeViciServer, type FakeViciServer } from '../../../support/vici/fake-vici-server';

const servers: FakeViciServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});
async function fake(options: Parameters<typeof startFakeViciServer>[0]): Promise<FakeViciServer> {
  const s = await startFakeViciServer(options);
  servers.push(s);
  return s;
}
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('VICI client: commands', () => {
  test('request/response with a message, replies written in 3-byte pieces', async () => {
    const server = await fake({
      chunkSize: 3,
      commands: { version: () => ({ daemon: 'charon', version: '5.9.13', plugins: ['vici', 'kernel-netlink'] }) },
    });
    const vici = await connectVici(server.path);
    assert.deepEqual(await vici.request('version'), { daemon: 'charon', version: '5.9.13', plugins: ['vici', 'kernel-netlink'] });
    assert.deepEqual(server.received, [{ type: 'cmd-request', command: 'version', message: {} }]);
    await vici.close();
    assert.equal(await vici.closed, undefined);
  });

  test('concurrent requests are sent one at a time and answered in order', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const server = await fake({
      commands: {
        echo: async (m) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await delay(Number(m.wait));
          inFlight--;
          return { got: m.n as string };
        },
      },
    });
    const vici = await connectVici(server.path);
    const results = await Promise.all(
      [30, 1, 10, 0].map((wait, i) => vici.request('echo', { n: String(i), wait: String(wait) })),
    );
    assert.deepEqual(results, [{ got: '0' }, { got: '1' }, { got: '2' }, { got: '3' }]);
    assert.equal(maxInFlight, 1);
    // The client must not even send request n+1 before answer n (VICI has no request ids).
    assert.equal(server.received.length, 4);
    await vici.close();
  });

  test('CMD_UNKNOWN becomes ViciUnknownCommandError and the connection stays usable', async () => {
    const server = await fake({ commands: { version: () => ({ daemon: 'charon' }) } });
    const vici = await connectVici(server.path);
    await assert.rejects(vici.request('no-such-thing'), ViciUnknownCommandError);
    assert.deepEqual(await vici.request('version'), { daemon: 'charon' });
    await vici.close();
  });

  test('success = no becomes ViciCommandError with errmsg', async () => {
    const server = await fake({ commands: { terminate: () => ({ success: 'no', errmsg: 'no matching IKE_SA' }) } });
    const vici = await connectVici(server.path);
    await assert.rejects(terminateIke(vici, { ikeId: 42 }), (err: unknown) => {
      return err instanceof ViciCommandError && err.errmsg === 'no matching IKE_SA' && err.command === 'terminate';
    });
    assert.deepEqual(server.received[0], { type: 'cmd-request', command: 'terminate', message: { 'ike-id': '42' } });
    await vici.close();
  });

  test('load-shared sends the PSK and accepts success', async () => {
    const server = await fake({ commands: { 'load-shared': () => ({ success: 'yes' }) } });
    const vici = await connectVici(server.path);
    await loadSharedIke(vici, { secret: 'psk-value', owners: [] });
    assert.deepEqual(server.received[0], {
      type: 'cmd-request',
      command: 'load-shared',
      message: { type: 'IKE', data: 'psk-value', owners: [] },
    });
    await vici.close();
  });

  test('timeout rejects, closes the connection and fails queued operations', async () => {
    const server = await fake({ commands: { stall: () => 'ignore', version: () => ({}) } });
    const vici = await connectVici(server.path, { timeoutMs: 50 });
    const stalled = vici.request('stall');
    const queued = vici.request('version');
    await assert.rejects(stalled, (err: unknown) => err instanceof ViciTimeoutError && err.timeoutMs === 50);
    await assert.rejects(queued, ViciClosedError);
    assert.ok((await vici.closed) instanceof ViciClosedError);
    await assert.rejects(vici.request('version'), ViciClosedError);
  });

  test('server closing mid-request rejects the request', async () => {
    let server: FakeViciServer | undefined;
    server = await fake({
      commands: {
        die: () => {
          setImmediate(() => void server!.close());
          return 'ignore';
        },
      },
    });
    servers.pop(); // closed by the handler
    const vici = await connectVici(server.path);
    await assert.rejects(vici.request('die'), ViciClosedError);
  });

  test('garbage from the server is a protocol error that closes the connection', async () => {
    const server = await fake({ commands: { stall: () => 'ignore' } });
    const vici = await connectVici(server.path);
    const pending = vici.request('stall');
    await delay(20);
    server.sendRaw(Buffer.from([0, 0, 0, 1, 9]));
    await assert.rejects(pending, ViciProtocolError);
    assert.ok((await vici.closed) instanceof ViciProtocolError);
  });

  test('an answer nobody asked for is a protocol error', async () => {
    const server = await fake({});
    const vici = await connectVici(server.path);
    await delay(20);
    server.sendRaw(encodePacket({ type: 'cmd-response', message: {} }));
    assert.ok((await vici.closed) instanceof ViciProtocolError);
  });
});

describe('VICI client: events', () => {
  test('list-sas streams list-sa events before its response', async () => {
    const sa = (id: string): ViciMessage => ({ uniqueid: id, version: '1', state: 'ESTABLISHED', 'child-sas': { 'l2tp-1': { mode: 'TRANSPORT' } } });
    const server = await fake({
      events: ['list-sa'],
      commands: {
        'list-sas': (_m, ctx) => {
          ctx.emit('list-sa', { 'l2tp-psk': sa('1') });
          ctx.emit('list-sa', { 'l2tp-psk': sa('2') });
          return {};
        },
      },
    });
    const vici = await connectVici(server.path);
    const sas = await listSas(vici, { noblock: true });
    assert.deepEqual(sas, [
      { name: 'l2tp-psk', sa: sa('1') },
      { name: 'l2tp-psk', sa: sa('2') },
    ]);
    assert.deepEqual(
      server.received.map((p) => p.type),
      ['event-register', 'cmd-request', 'event-unregister'],
    );
    assert.deepEqual(server.received[1], { type: 'cmd-request', command: 'list-sas', message: { noblock: 'yes' } });
    await vici.close();
  });

  test('registerEvent delivers events until unregistered; registration is shared per name', async () => {
    const server = await fake({ events: ['ike-updown'] });
    const vici = await connectVici(server.path);
    const a: string[] = [];
    const b: string[] = [];
    const offA = await vici.registerEvent('ike-updown', (m) => a.push(m.up as string));
    const offB = await vici.registerEvent('ike-updown', (m) => b.push(m.up as string));
    server.emit('ike-updown', { up: 'yes' });
    await delay(20);
    await offA();
    server.emit('ike-updown', { up: 'no' });
    await delay(20);
    await offB();
    server.emit('ike-updown', { up: 'late' });
    await delay(20);
    assert.deepEqual(a, ['yes']);
    assert.deepEqual(b, ['yes', 'no']);
    // One register for two handlers, one unregister after the last one left.
    assert.deepEqual(
      server.received.map((p) => p.type),
      ['event-register', 'event-unregister'],
    );
    await vici.close();
  });

  test('a throwing handler does not break the connection or other handlers', async () => {
    const server = await fake({ events: ['log'], commands: { version: () => ({ ok: 'yes' }) } });
    const warnings: string[] = [];
    const vici = await connectVici(server.path, { logger: { warn: (_o, msg) => warnings.push(msg ?? ''), debug: () => {} } });
    const seen: string[] = [];
    await vici.registerEvent('log', () => {
      throw new Error('boom');
    });
    await vici.registerEvent('log', (m) => seen.push(m.msg as string));
    server.emit('log', { msg: 'hello' });
    assert.deepEqual(await vici.request('version'), { ok: 'yes' });
    assert.deepEqual(seen, ['hello']);
    assert.equal(warnings.length, 1);
    await vici.close();
  });

  test('EVENT_UNKNOWN rejects the registration', async () => {
    const server = await fake({ events: [] });
    const vici = await connectVici(server.path);
    await assert.rejects(vici.registerEvent('nope', () => {}), ViciUnknownEventError);
    await vici.close();
  });
});

describe('VICI client: connect errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vici-connect-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('ENOENT names the path and the likely cause', async () => {
    const path = join(dir, 'missing.vici');
    await assert.rejects(connectVici(path), (err: unknown) => {
      return err instanceof ViciConnectError && err.code === 'ENOENT' && err.message.includes(path) && /charon/.test(err.message);
    });
  });

  test('ECONNREFUSED for a file that is not a listening socket', async () => {
    const path = join(dir, 'plain-file');
    writeFileSync(path, '');
    await assert.rejects(connectVici(path), (err: unknown) => err instanceof ViciConnectError && err.code === 'ECONNREFUSED');
  });

  test('EACCES when the socket is not accessible (needs a non-root user)', async (t) => {
    if (process.getuid?.() === 0) {
      // root bypasses file permissions; run the check as nobody via a child process instead.
      const server = createServer(() => {});
      const path = join(dir, 'locked.vici');
      await new Promise<void>((r) => server.listen(path, () => r()));
      chmodSync(path, 0o600);
      chmodSync(dir, 0o755);
      const { spawnSync } = await import('node:child_process');
      const script = `import('${join(process.cwd(), 'edge-agent/src/vici/client.ts')}').then(m => m.connectVici('${path}')).then(() => console.log('connected'), e => console.log(e.code))`;
      const res = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', cwd: process.cwd() });
      server.close();
      if (res.error || /Cannot find|ERR_/.test(res.stderr) && !res.stdout) {
        t.skip(`cannot run a child as nobody: ${res.error?.message ?? res.stderr.slice(0, 200)}`);
        return;
      }
      assert.equal(res.stdout.trim(), 'EACCES');
    } else {
      t.skip('not root: cannot create a socket this user may not open in a portable way');
    }
  });
});
