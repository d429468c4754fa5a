import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLOUD_NAT_CHAIN_IN,
  CLOUD_NAT_CHAIN_OUT,
  CLOUD_NAT_LINK,
  decideCloudNat,
  inboundRules,
  outboundRules,
  parseAddresses,
  parseDefaultRoute,
  setUpSteps,
  tearDownSteps,
  type CloudNatInput,
  type HostFacts,
} from '../../../../edge-agent/src/cloud-nat';

// What an EC2 instance looks like: private address on ens5, the public one only in the VPC's NAT.
const EC2: HostFacts = {
  addresses: [
    { ifname: 'lo', address: '127.0.0.1' },
    { ifname: 'ens5', address: '172.31.7.20' },
  ],
  defaultRoute: { ifname: 'ens5', prefsrc: '172.31.7.20' },
};
const AUTO: CloudNatInput = { mode: 'auto', ipsec: true, publicAddress: '203.0.113.7', allowPlainL2tp: false };
const PLAN = { publicAddress: '203.0.113.7', privateAddress: '172.31.7.20', privateInterface: 'ens5' };

describe('decideCloudNat', () => {
  test('auto: on when PUBLIC_ADDRESS is not local; the private address is the default route\'s', () => {
    assert.deepEqual(decideCloudNat(AUTO, EC2), { enabled: true, plan: PLAN });
  });

  test('auto: off when the public address is already local (no NAT in front), with the reason', () => {
    const direct: HostFacts = { addresses: [{ ifname: 'eth0', address: '203.0.113.7' }], defaultRoute: { ifname: 'eth0' } };
    const d = decideCloudNat(AUTO, direct);
    assert.equal(d.enabled, false);
    assert.match('reason' in d ? d.reason : '', /203\.0\.113\.7 is a local address \(on eth0\)/);
  });

  test('our own dummy link (left by a crashed run) does not count as "local": a restart turns the mode on again', () => {
    const leftover: HostFacts = { ...EC2, addresses: [...EC2.addresses, { ifname: CLOUD_NAT_LINK, address: '203.0.113.7' }] };
    assert.deepEqual(decideCloudNat(AUTO, leftover), { enabled: true, plan: PLAN });
  });

  test('off never looks at the host; auto without IPsec, public address or default route stays off', () => {
    assert.deepEqual(decideCloudNat({ ...AUTO, mode: 'off' }, EC2), { enabled: false, reason: 'CLOUD_NAT=off' });
    const reasons = [
      decideCloudNat({ ...AUTO, ipsec: false }, EC2),
      decideCloudNat({ ...AUTO, allowPlainL2tp: true }, EC2),
      decideCloudNat({ mode: 'auto', ipsec: true, allowPlainL2tp: false }, EC2),
      decideCloudNat({ ...AUTO, publicAddress: 'vpn.example.net' }, EC2),
      decideCloudNat(AUTO, { addresses: EC2.addresses }),
      decideCloudNat(AUTO, { addresses: [], defaultRoute: { ifname: 'ens5' } }),
    ].map((d) => ('reason' in d ? d.reason : JSON.stringify(d)));
    assert.deepEqual(reasons, [
      'IPSEC=off (the mode only changes what IKE sees)',
      'ALLOW_PLAIN_L2TP=true (plain L2TP arrives at the private address; in this mode L2TP is bound to the public one)',
      'PUBLIC_ADDRESS is not set',
      'PUBLIC_ADDRESS vpn.example.net is not an IPv4 address',
      'no IPv4 default route to find the private address by',
      "the default route's interface ens5 has no IPv4 address",
    ]);
  });

  test('on: the same conditions are errors that name CLOUD_NAT=on', () => {
    const d = decideCloudNat({ ...AUTO, mode: 'on' }, { addresses: EC2.addresses });
    assert.deepEqual(d, { enabled: false, error: 'CLOUD_NAT=on: no IPv4 default route to find the private address by' });
    assert.deepEqual(decideCloudNat({ ...AUTO, mode: 'on' }, EC2), { enabled: true, plan: PLAN });
  });

  test('several addresses on the route interface: prefsrc wins, else the first', () => {
    const two: HostFacts = {
      addresses: [
        { ifname: 'ens5', address: '172.31.7.99' },
        { ifname: 'ens5', address: '172.31.7.20' },
      ],
      defaultRoute: { ifname: 'ens5', prefsrc: '172.31.7.20' },
    };
    assert.equal(decideCloudNat(AUTO, two).enabled && (decideCloudNat(AUTO, two) as { plan: { privateAddress: string } }).plan.privateAddress, '172.31.7.20');
    const noSrc = { ...two, defaultRoute: { ifname: 'ens5' } };
    assert.equal((decideCloudNat(AUTO, noSrc) as { plan: { privateAddress: string } }).plan.privateAddress, '172.31.7.99');
  });
});

describe('rules', () => {
  test('inbound: IKE, NAT-T and raw ESP to the private address are DNATed to the public one', () => {
    assert.deepEqual(inboundRules(PLAN), [
      ['-d', '172.31.7.20', '-p', 'udp', '--dport', '500', '-j', 'DNAT', '--to-destination', '203.0.113.7'],
      ['-d', '172.31.7.20', '-p', 'udp', '--dport', '4500', '-j', 'DNAT', '--to-destination', '203.0.113.7'],
      ['-d', '172.31.7.20', '-p', 'esp', '-j', 'DNAT', '--to-destination', '203.0.113.7'],
    ]);
  });

  // Regression (e2e cloud-nat-esp, a client reconnecting after an operator disconnect): a DNAT of
  // udp/1701 turned the client's last plaintext L2TP datagram into a conntrack entry whose reply
  // tuple (public:1701 -> client:1701) clashed with the next protected session, whose source port
  // conntrack then rewrote; the agent refused it as "L2TP outside IPsec".
  test('inbound: never L2TP', () => {
    assert.ok(!inboundRules(PLAN).some((r) => r.includes('1701')));
  });

  test('outbound: only IKE, NAT-T and ESP leaving from the public address are SNATed; never plaintext L2TP', () => {
    const rules = outboundRules(PLAN);
    assert.deepEqual(rules, [
      ['-s', '203.0.113.7', '-o', 'ens5', '-p', 'udp', '--sport', '500', '-j', 'SNAT', '--to-source', '172.31.7.20'],
      ['-s', '203.0.113.7', '-o', 'ens5', '-p', 'udp', '--sport', '4500', '-j', 'SNAT', '--to-source', '172.31.7.20'],
      ['-s', '203.0.113.7', '-o', 'ens5', '-p', 'esp', '-j', 'SNAT', '--to-source', '172.31.7.20'],
    ]);
    assert.ok(!rules.some((r) => r.includes('1701')), 'a plaintext L2TP datagram that missed its SA must not be made deliverable');
  });

  test('set-up: dummy link with the /32, chains created (tolerating "exists"), flushed, filled, jumps inserted only if missing', () => {
    const steps = setUpSteps(PLAN);
    assert.deepEqual(steps.slice(0, 4), [
      { kind: 'run', tool: 'ip', args: ['link', 'add', 'tb-public', 'type', 'dummy'], tolerate: 'exists' },
      { kind: 'run', tool: 'ip', args: ['address', 'flush', 'dev', 'tb-public'] },
      { kind: 'run', tool: 'ip', args: ['address', 'replace', '203.0.113.7/32', 'dev', 'tb-public'] },
      { kind: 'run', tool: 'ip', args: ['link', 'set', 'tb-public', 'up'] },
    ]);
    const iptables = steps.filter((s) => s.tool === 'iptables');
    assert.ok(iptables.every((s) => (s.kind === 'ensure' ? s.check : s.args).slice(0, 3).join(' ') === '-w -t nat'));
    assert.deepEqual(
      iptables.filter((s) => s.kind === 'ensure'),
      [
        { kind: 'ensure', tool: 'iptables', check: ['-w', '-t', 'nat', '-C', 'PREROUTING', '-j', CLOUD_NAT_CHAIN_IN], add: ['-w', '-t', 'nat', '-I', 'PREROUTING', '1', '-j', CLOUD_NAT_CHAIN_IN] },
        { kind: 'ensure', tool: 'iptables', check: ['-w', '-t', 'nat', '-C', 'POSTROUTING', '-j', CLOUD_NAT_CHAIN_OUT], add: ['-w', '-t', 'nat', '-I', 'POSTROUTING', '1', '-j', CLOUD_NAT_CHAIN_OUT] },
      ],
    );
    // Each chain: -N (exists ok), -F, then its rules; appends only after the flush.
    const flat = iptables.map((s) => (s.kind === 'run' ? s.args.slice(3, 5).join(' ') : ''));
    assert.deepEqual(flat.slice(0, 6), [`-N ${CLOUD_NAT_CHAIN_IN}`, `-F ${CLOUD_NAT_CHAIN_IN}`, ...Array(3).fill(`-A ${CLOUD_NAT_CHAIN_IN}`), '']);
    assert.equal(iptables.filter((s) => s.kind === 'run' && s.args[3] === '-A').length, 6);
  });

  test('tear-down: every jump copy removed, chains flushed and deleted, link deleted; all tolerate "already gone"', () => {
    const steps = tearDownSteps();
    assert.deepEqual(steps, [
      { kind: 'drain', tool: 'iptables', args: ['-w', '-t', 'nat', '-D', 'PREROUTING', '-j', CLOUD_NAT_CHAIN_IN], max: 16 },
      { kind: 'run', tool: 'iptables', args: ['-w', '-t', 'nat', '-F', CLOUD_NAT_CHAIN_IN], tolerate: 'missing' },
      { kind: 'run', tool: 'iptables', args: ['-w', '-t', 'nat', '-X', CLOUD_NAT_CHAIN_IN], tolerate: 'missing' },
      { kind: 'drain', tool: 'iptables', args: ['-w', '-t', 'nat', '-D', 'POSTROUTING', '-j', CLOUD_NAT_CHAIN_OUT], max: 16 },
      { kind: 'run', tool: 'iptables', args: ['-w', '-t', 'nat', '-F', CLOUD_NAT_CHAIN_OUT], tolerate: 'missing' },
      { kind: 'run', tool: 'iptables', args: ['-w', '-t', 'nat', '-X', CLOUD_NAT_CHAIN_OUT], tolerate: 'missing' },
      { kind: 'run', tool: 'ip', args: ['link', 'del', 'tb-public'], tolerate: 'missing' },
    ]);
  });
});

describe('parsing ip -j output', () => {
  test('addresses: IPv4 per interface; junk gives nothing rather than throwing', () => {
    const json = JSON.stringify([
      { ifindex: 1, ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
      { ifindex: 2, ifname: 'ens5', addr_info: [{ family: 'inet', local: '172.31.7.20', prefixlen: 20 }, { family: 'inet6', local: 'fe80::1' }] },
      { ifindex: 3, addr_info: [{ family: 'inet', local: '10.0.0.1' }] },
    ]);
    assert.deepEqual(parseAddresses(json), [
      { ifname: 'lo', address: '127.0.0.1' },
      { ifname: 'ens5', address: '172.31.7.20' },
    ]);
    assert.deepEqual(parseAddresses('not json'), []);
    assert.deepEqual(parseAddresses('{"a":1}'), []);
  });

  test('default route: first one with a device; prefsrc when given', () => {
    assert.deepEqual(parseDefaultRoute('[{"dst":"default","gateway":"172.31.0.1","dev":"ens5","protocol":"dhcp","prefsrc":"172.31.7.20","metric":100,"flags":[]}]'), {
      ifname: 'ens5',
      prefsrc: '172.31.7.20',
    });
    assert.deepEqual(parseDefaultRoute('[{"dst":"default","gateway":"10.99.0.1","dev":"eth0","flags":[]}]'), { ifname: 'eth0' });
    assert.equal(parseDefaultRoute('[]'), undefined);
    assert.equal(parseDefaultRoute(''), undefined);
  });
});
