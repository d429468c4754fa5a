import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CLOUD_NAT_LINK, CloudNatError, createCloudNatHost, enableCloudNat, type CloudNatHost } from '../../../../edge-agent/src/cloud-nat';
import { LinkConfigError } from '../../../../edge-agent/src/io/errors';
import type { CommandRunner } from '../../../../edge-agent/src/io/link-config';
import { l2tpBindAddress, LaunchError } from '../../../../edge-agent/src/runtime/launch';

/**
 * A small model of a host's `ip` and `iptables -t nat` state that answers with the real tools'
 * error messages (iptables 1.8.9, iproute2 6.1), so idempotency is checked on state, not on a script.
 */
function fakeHost(initial: { addresses?: [string, string][]; defaultDev?: string } = {}) {
  const links = new Map<string, string[]>();
  for (const [ifname, address] of initial.addresses ?? []) links.set(ifname, [...(links.get(ifname) ?? []), address]);
  const chains = new Map<string, string[]>([
    ['PREROUTING', []],
    ['POSTROUTING', []],
  ]);
  const calls: string[] = [];
  const fail = (cmd: string, stderr: string, code = 1): never => {
    throw new LinkConfigError(cmd, stderr, code);
  };
  const runner: CommandRunner = async (file, args) => {
    const cmd = [file, ...args].join(' ');
    calls.push(cmd);
    if (file === 'ip') {
      if (args[0] === '-j' && args[2] === 'address') {
        return JSON.stringify([...links].map(([ifname, addrs]) => ({ ifname, addr_info: addrs.map((local) => ({ family: 'inet', local })) })));
      }
      if (args[0] === '-j' && args[2] === 'route') return JSON.stringify(initial.defaultDev ? [{ dst: 'default', dev: initial.defaultDev }] : []);
      const [what, verb, a, b, c] = args;
      if (what === 'link' && verb === 'add') return links.has(a!) ? fail(cmd, 'RTNETLINK answers: File exists', 2) : (links.set(a!, []), '');
      if (what === 'link' && verb === 'del') return links.delete(a!) ? '' : fail(cmd, 'Cannot find device "tb-public"');
      if (what === 'link' && verb === 'set') return links.has(a!) ? '' : fail(cmd, 'Cannot find device');
      if (what === 'address' && verb === 'flush') return links.has(b!) ? (links.set(b!, []), '') : fail(cmd, 'Device does not exist');
      if (what === 'address' && verb === 'replace') {
        const addrs = links.get(c!) ?? fail(cmd, 'Cannot find device');
        const address = a!.split('/')[0]!;
        if (!addrs.includes(address)) addrs.push(address);
        return '';
      }
      return fail(cmd, `fake ip: unexpected ${cmd}`);
    }
    assert.deepEqual(args.slice(0, 3), ['-w', '-t', 'nat'], cmd);
    const [op, chain = '', ...rule] = args.slice(3);
    const spec = rule.join(' ');
    const target = /-j (\S+)/.exec(spec)?.[1];
    const existing = chains.get(chain);
    if (op === '-N') return existing ? fail(cmd, 'iptables: Chain already exists.') : (chains.set(chain, []), '');
    if (!existing) return fail(cmd, 'iptables: No chain/target/match by that name.');
    if (target && !['DNAT', 'SNAT'].includes(target) && !chains.has(target)) return fail(cmd, `iptables v1.8.9 (nf_tables): Chain '${target}' does not exist`, 2);
    switch (op) {
      case '-F':
        existing.length = 0;
        return '';
      case '-X':
        chains.delete(chain);
        return '';
      case '-A':
        existing.push(spec);
        return '';
      case '-I':
        existing.splice(Number(rule[0]) - 1, 0, rule.slice(1).join(' '));
        return '';
      case '-C':
        return existing.includes(spec) ? '' : fail(cmd, 'iptables: Bad rule (does a matching rule exist in that chain?).');
      case '-D': {
        const at = existing.indexOf(spec);
        return at >= 0 ? (existing.splice(at, 1), '') : fail(cmd, 'iptables: Bad rule (does a matching rule exist in that chain?).');
      }
    }
    return fail(cmd, `fake iptables: unexpected ${cmd}`);
  };
  return { runner, links, chains, calls };
}

const PLAN = { publicAddress: '203.0.113.7', privateAddress: '172.31.7.20', privateInterface: 'ens5' };
const quiet = { info: () => {}, warn: () => {} };

describe('createCloudNatHost', () => {
  test('apply twice (a restart after a crash): one link with one /32, one copy of each rule and jump', async () => {
    const h = fakeHost();
    const host = createCloudNatHost({ runner: h.runner });
    await host.apply(PLAN);
    const once = JSON.stringify([...h.chains]);
    await host.apply(PLAN);
    assert.equal(JSON.stringify([...h.chains]), once);
    assert.deepEqual(h.links.get(CLOUD_NAT_LINK), ['203.0.113.7']);
    assert.deepEqual(h.chains.get('PREROUTING'), ['-j TB-CLOUD-NAT-IN']);
    assert.deepEqual(h.chains.get('POSTROUTING'), ['-j TB-CLOUD-NAT-OUT']);
    assert.equal(h.chains.get('TB-CLOUD-NAT-IN')?.length, 3);
    assert.equal(h.chains.get('TB-CLOUD-NAT-OUT')?.length, 3);
  });

  test('a new public address replaces the old one everywhere (no stale rule, no second address)', async () => {
    const h = fakeHost();
    const host = createCloudNatHost({ runner: h.runner });
    await host.apply(PLAN);
    await host.apply({ ...PLAN, publicAddress: '198.51.100.9' });
    assert.deepEqual(h.links.get(CLOUD_NAT_LINK), ['198.51.100.9']);
    assert.ok(!JSON.stringify([...h.chains]).includes('203.0.113.7'));
  });

  test('remove takes everything away, leaves foreign rules alone, and can run again', async () => {
    const h = fakeHost();
    h.chains.get('PREROUTING')!.push('-d 10.0.0.1 -j DNAT --to-destination 10.0.0.2');
    const host = createCloudNatHost({ runner: h.runner });
    await host.apply(PLAN);
    // A duplicate jump, as a buggy tool or a hand edit could leave: drained too.
    h.chains.get('PREROUTING')!.push('-j TB-CLOUD-NAT-IN');
    await host.remove();
    assert.deepEqual([...h.chains.keys()], ['PREROUTING', 'POSTROUTING']);
    assert.deepEqual(h.chains.get('PREROUTING'), ['-d 10.0.0.1 -j DNAT --to-destination 10.0.0.2']);
    assert.equal(h.links.has(CLOUD_NAT_LINK), false);
    await host.remove(); // nothing left: still fine
  });

  test('uses the configured iptables program; a real failure is not swallowed', async () => {
    const calls: string[] = [];
    const runner: CommandRunner = async (file, args) => {
      calls.push(file);
      if (file === 'iptables-legacy' && args[3] === '-N') throw new LinkConfigError('iptables-legacy -N', "can't initialize iptables table `nat': Table does not exist", 3);
      return '';
    };
    const host = createCloudNatHost({ runner, iptables: 'iptables-legacy' });
    await assert.rejects(host.apply(PLAN), /Table does not exist/);
    assert.ok(calls.includes('iptables-legacy') && !calls.includes('iptables'));
  });

  test('inspect reads addresses and the default route with ip -j', async () => {
    const h = fakeHost({ addresses: [['ens5', '172.31.7.20']], defaultDev: 'ens5' });
    const facts = await createCloudNatHost({ runner: h.runner }).inspect();
    assert.deepEqual(facts, { addresses: [{ ifname: 'ens5', address: '172.31.7.20' }], defaultRoute: { ifname: 'ens5' } });
  });
});

describe('enableCloudNat', () => {
  const input = { mode: 'auto' as const, ipsec: true, publicAddress: '203.0.113.7', allowPlainL2tp: false };

  test('auto behind a 1:1 NAT: sets up and returns the plan', async () => {
    const h = fakeHost({ addresses: [['ens5', '172.31.7.20']], defaultDev: 'ens5' });
    const plan = await enableCloudNat(input, createCloudNatHost({ runner: h.runner }), quiet);
    assert.deepEqual(plan, PLAN);
    assert.deepEqual(h.links.get(CLOUD_NAT_LINK), ['203.0.113.7']);
  });

  test('auto with the public address on an interface: nothing touched', async () => {
    const h = fakeHost({ addresses: [['eth0', '203.0.113.7']], defaultDev: 'eth0' });
    assert.equal(await enableCloudNat(input, createCloudNatHost({ runner: h.runner }), quiet), undefined);
    assert.ok(h.calls.every((c) => c.startsWith('ip -j')), h.calls.join('\n'));
  });

  test('IPSEC=off or no PUBLIC_ADDRESS in auto: not even inspected', async () => {
    const h = fakeHost();
    const host = createCloudNatHost({ runner: h.runner });
    assert.equal(await enableCloudNat({ ...input, ipsec: false }, host, quiet), undefined);
    assert.equal(await enableCloudNat({ mode: 'auto', ipsec: true, allowPlainL2tp: false }, host, quiet), undefined);
    assert.deepEqual(h.calls, []);
  });

  test('on without a default route: CloudNatError naming CLOUD_NAT=on, nothing set up', async () => {
    const h = fakeHost({ addresses: [['ens5', '172.31.7.20']] });
    await assert.rejects(enableCloudNat({ ...input, mode: 'on' }, createCloudNatHost({ runner: h.runner }), quiet), (e: unknown) => {
      assert.ok(e instanceof CloudNatError);
      assert.match(e.message, /^CLOUD_NAT=on: no IPv4 default route/);
      return true;
    });
    assert.equal(h.links.has(CLOUD_NAT_LINK), false);
  });

  test('a set-up that fails half-way is removed again', async () => {
    const removed: string[] = [];
    const host: CloudNatHost = {
      inspect: async () => ({ addresses: [{ ifname: 'ens5', address: '172.31.7.20' }], defaultRoute: { ifname: 'ens5' } }),
      apply: async () => {
        throw new Error('iptables: boom');
      },
      remove: async () => void removed.push('removed'),
    };
    await assert.rejects(enableCloudNat(input, host, quiet), /cloud NAT set-up failed: iptables: boom/);
    assert.deepEqual(removed, ['removed']);
  });

  test('CLOUD_NAT=off clears what a crashed run left (our dummy link), and nothing else', async () => {
    const h = fakeHost({ addresses: [['ens5', '172.31.7.20']], defaultDev: 'ens5' });
    const host = createCloudNatHost({ runner: h.runner });
    await host.apply(PLAN);
    assert.equal(await enableCloudNat({ ...input, mode: 'off' }, host, quiet), undefined);
    assert.equal(h.links.has(CLOUD_NAT_LINK), false);
    assert.deepEqual(h.chains.get('PREROUTING'), []);
    assert.ok(h.links.has('ens5'));
  });
});

describe('l2tpBindAddress', () => {
  const listen = (address: string) => ({ l2tpListen: { address, port: 1701 } });
  test('cloud NAT binds L2TP to the public address; without it the configured address stays', () => {
    assert.equal(l2tpBindAddress(listen('0.0.0.0'), { publicAddress: '203.0.113.7' }), '203.0.113.7');
    assert.equal(l2tpBindAddress(listen('::'), { publicAddress: '203.0.113.7' }), '203.0.113.7');
    assert.equal(l2tpBindAddress(listen('203.0.113.7'), { publicAddress: '203.0.113.7' }), '203.0.113.7');
    assert.equal(l2tpBindAddress(listen('0.0.0.0'), undefined), '0.0.0.0');
  });
  test('another fixed listen address cannot work with the mode: a LaunchError that says what to do', () => {
    assert.throws(() => l2tpBindAddress(listen('172.31.7.20'), { publicAddress: '203.0.113.7' }), (e: unknown) => e instanceof LaunchError && /CLOUD_NAT=off/.test(e.message));
  });
});
