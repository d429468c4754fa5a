/**
 * The cloud NAT host set-up (edge-agent/src/cloud-nat/) against the real iptables programs (nft
 * and legacy back ends) and a real kernel, in a throwaway network namespace whose default route
 * leaves over a veth, as on a cloud VM: rules exactly once after a second set-up (a restart after
 * a crash), all gone after removal, and a datagram sent to the namespace's private address reaches
 * a socket bound to the public address while the reply comes back from the private address.
 *
 * This host's kernel has no `dummy` driver (the e2e guest kernels do, and the e2e cloud-NAT
 * scenarios use the real dummy link): when `ip link add ... type dummy` is not supported here,
 * the public address sits on a TUN device instead; everything else runs unchanged.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createSocket } from 'node:dgram';
import { promisify } from 'node:util';
import { CLOUD_NAT_LINK, createCloudNatHost, enableCloudNat } from '../../../edge-agent/src/cloud-nat';
import { execFileRunner, type CommandRunner } from '../../../edge-agent/src/io/link-config';
import { createNetns, netnsSkipReason, type Netns as TestNetns } from '../../../scripts/lib/netns';

const run = promisify(execFile);
const PUBLIC = '198.18.77.7'; // RFC 2544 benchmarking range: never a real host's address
const variants = ['iptables-nft', 'iptables-legacy'].filter((p) => spawnSync(p, ['--version']).status === 0);
const skip = netnsSkipReason() ?? (variants.length === 0 ? 'needs iptables-nft or iptables-legacy' : undefined);
const quiet = { info: () => {}, warn: () => {} };

let ns: TestNetns;
let dummyMissing = false;

/** Runs each command inside the namespace; maps the dummy link to a TUN when the kernel has no dummy driver. */
function inNamespace(): CommandRunner {
  const real = execFileRunner();
  return (file, args) => {
    if (dummyMissing && file === 'ip' && args.join(' ') === `link add ${CLOUD_NAT_LINK} type dummy`) {
      return real('ip', ['netns', 'exec', ns.name, 'ip', 'tuntap', 'add', 'dev', CLOUD_NAT_LINK, 'mode', 'tun']).catch((error: Error & { stderr?: string }) => {
        // Same "exists" wording as for a dummy, so the set-up's tolerance is exercised as on a real host.
        if (/exists|busy/i.test(error.stderr ?? '')) throw Object.assign(error, { stderr: 'RTNETLINK answers: File exists' });
        throw error;
      });
    }
    if (dummyMissing && file === 'ip' && args.join(' ') === `link del ${CLOUD_NAT_LINK}`) {
      return real('ip', ['netns', 'exec', ns.name, 'ip', 'tuntap', 'del', 'dev', CLOUD_NAT_LINK, 'mode', 'tun']);
    }
    return real('ip', ['netns', 'exec', ns.name, file, ...args]);
  };
}

async function natRules(iptables: string): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'exec', ns.name, `${iptables}-save`, '-t', 'nat']);
  return stdout.split('\n').filter((line) => line.includes('TB-CLOUD-NAT'));
}

describe('cloud NAT host set-up with the real iptables', { skip }, () => {
  before(async () => {
    ns = await createNetns('cloudnat');
    await ns.exec('ip', ['route', 'add', 'default', 'via', ns.hostAddress]);
    const probe = await ns.exec('ip', ['link', 'add', 'tbprobe0', 'type', 'dummy']);
    dummyMissing = probe.code !== 0;
    if (!dummyMissing) await ns.exec('ip', ['link', 'del', 'tbprobe0']);
  });
  after(async () => {
    await ns?.delete();
  });

  for (const iptables of variants) {
    test(`${iptables}: set up twice gives one copy; removal leaves nothing; DNAT to the public address works`, async () => {
      const host = createCloudNatHost({ runner: inNamespace(), iptables });
      const input = { mode: 'on' as const, ipsec: true, publicAddress: PUBLIC, allowPlainL2tp: false };
      const plan = await enableCloudNat(input, host, quiet);
      assert.deepEqual(plan, { publicAddress: PUBLIC, privateAddress: ns.nsAddress, privateInterface: ns.nsInterface });
      const first = await natRules(iptables);
      // A restart after SIGKILL: the same set-up over the leftovers (auto mode must still see a NAT).
      assert.deepEqual(await enableCloudNat({ ...input, mode: 'auto' }, host, quiet), plan);
      const second = await natRules(iptables);
      assert.deepEqual(second, first, 'a second set-up must not duplicate anything');
      assert.equal(second.filter((l) => l === '-A PREROUTING -j TB-CLOUD-NAT-IN').length, 1);
      assert.equal(second.filter((l) => l === '-A POSTROUTING -j TB-CLOUD-NAT-OUT').length, 1);
      assert.equal(second.filter((l) => l.includes('-j DNAT')).length, 3, second.join('\n'));
      assert.equal(second.filter((l) => l.includes('-j SNAT')).length, 3, second.join('\n'));
      const addresses = (await ns.exec('ip', ['-4', '-o', 'address', 'show', 'dev', CLOUD_NAT_LINK])).stdout;
      assert.equal(addresses.match(/inet /g)?.length, 1, addresses);
      assert.match(addresses, new RegExp(`inet ${PUBLIC.replace(/\./g, '\\.')}/32`));

      // IKE sent to the private address arrives at a socket bound to the public one, and the reply
      // comes back from the private address (conntrack reverses the DNAT), as the cloud's NAT needs.
      const echo = ns.spawn(process.execPath, [
        '-e',
        `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(Buffer.concat([Buffer.from('echo:'),m]),r.port,r.address));s.bind(500,'${PUBLIC}',()=>console.log('ready'))`,
      ]);
      try {
        await once(echo.stdout!, 'data');
        const client = createSocket('udp4');
        client.bind(0, ns.hostAddress);
        await once(client, 'listening');
        const replied = once(client, 'message');
        client.send('ike', 500, ns.nsAddress);
        const [message, from] = (await Promise.race([replied, new Promise((_, no) => setTimeout(() => no(new Error('no reply within 5 s')), 5000))])) as [Buffer, { address: string; port: number }];
        client.close();
        assert.equal(message.toString(), 'echo:ike');
        assert.deepEqual({ address: from.address, port: from.port }, { address: ns.nsAddress, port: 500 });
      } finally {
        echo.kill();
      }

      await host.remove();
      assert.deepEqual(await natRules(iptables), []);
      assert.notEqual((await ns.exec('ip', ['link', 'show', CLOUD_NAT_LINK])).code, 0, 'the public address link is gone');
      await host.remove(); // again: nothing left, still fine
    });
  }
});
