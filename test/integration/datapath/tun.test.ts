/**
 * Real TUN device in a throwaway network namespace (root only). The test logic runs in a child
 * node process under `ip netns exec`, so nothing touches the host's interfaces or routes, and
 * the namespace is deleted whatever happens.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseIpv4 } from '../../../edge-agent/src/datapath/address';
import { encodeIcmpEcho, ICMP_ECHO_REPLY, isEchoReplyTo } from '../../../edge-agent/src/datapath/icmp';
import { realTunUnavailable } from '../../support/real-tun';

const why = realTunUnavailable();
if (why) console.log(`# skipping real TUN tests: ${why}`);

const NS = `tbtest-${process.pid}`;
const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'tun-netns-child.ts');

describe('real TUN in a network namespace', { skip: why }, () => {
  let result: Record<string, unknown>;

  before(() => {
    execFileSync('ip', ['netns', 'add', NS]);
    const run = spawnSync('ip', ['netns', 'exec', NS, process.execPath, '--import', 'tsx', CHILD], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, `child failed: ${run.stderr}`);
    result = JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  });
  after(() => {
    spawnSync('ip', ['netns', 'del', NS]);
  });

  test('the kernel resolves the name template', () => {
    assert.match(String(result.name), /^tbtest\d+$/);
  });

  test('an ICMP echo request written into the TUN comes back out as the kernel\'s echo reply', () => {
    assert.equal(result.wrote, true);
    assert.ok(typeof result.first === 'string', 'no echo reply was read from the TUN');
    const reply = Buffer.from(result.first, 'hex');
    const request = Buffer.from(String(result.request), 'hex');
    assert.ok(isEchoReplyTo(reply, request));
    // Exact bytes of what the kernel controls deterministically: version/IHL, length, protocol,
    // addresses, and the whole ICMP message (type 0, same id/seq/data, valid checksum).
    const expected = encodeIcmpEcho(
      { source: parseIpv4('10.99.0.1')!, destination: parseIpv4('10.99.1.2')!, identifier: 0xbeef, sequence: 1, payload: Buffer.from('tunnel-broker ping') },
      ICMP_ECHO_REPLY,
    );
    assert.equal(reply.length, expected.length);
    assert.equal(reply[0], 0x45);
    assert.equal(reply[9], 1);
    assert.deepEqual(reply.subarray(12, 20), expected.subarray(12, 20));
    assert.deepEqual(reply.subarray(20), expected.subarray(20));
  });

  test('a burst of 200 requests is written and all replies are read in order', () => {
    assert.equal(result.burstWritten, 200);
    assert.deepEqual(result.sequences, Array.from({ length: 200 }, (_, i) => 100 + i));
  });

  test('clear errors: the name held by another fd is busy; a non-TUN interface name is invalid', () => {
    assert.match(String(result.busy), /^name-busy: .*busy/);
    assert.match(String(result.notTun), /^invalid-name: TUNSETIFF lo: invalid argument/);
  });
});
