import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeAddress, parseTrafficSelector, singleUdpPort } from '../../../../edge-agent/src/ipsec';

describe('parseTrafficSelector (strongSwan %R output)', () => {
  const cases: [string, ReturnType<typeof parseTrafficSelector>][] = [
    ['203.0.113.5/32[udp/l2f]', { net: '203.0.113.5/32', host: '203.0.113.5', protocol: 17, ports: { from: 1701, to: 1701 } }],
    ['203.0.113.5/32[udp/1701]', { net: '203.0.113.5/32', host: '203.0.113.5', protocol: 17, ports: { from: 1701, to: 1701 } }],
    ['203.0.113.5/32[17/50123]', { net: '203.0.113.5/32', host: '203.0.113.5', protocol: 17, ports: { from: 50123, to: 50123 } }],
    ['203.0.113.5/32[udp]', { net: '203.0.113.5/32', host: '203.0.113.5', protocol: 17 }],
    ['203.0.113.5/32', { net: '203.0.113.5/32', host: '203.0.113.5' }],
    ['10.0.0.0/8[udp/1000-2000]', { net: '10.0.0.0/8', protocol: 17, ports: { from: 1000, to: 2000 } }],
    ['dynamic[udp/l2f]', { net: 'dynamic', protocol: 17, ports: { from: 1701, to: 1701 } }],
    ['2001:DB8::5/128[udp/l2tp]', { net: '2001:DB8::5/128', host: '2001:db8::5', protocol: 17, ports: { from: 1701, to: 1701 } }],
    ['1.2.3.4..1.2.3.4[udp/OPAQUE]', { net: '1.2.3.4..1.2.3.4', host: '1.2.3.4', protocol: 17, ports: 'opaque' }],
    ['1.2.3.4/32[udp/no-such-service]', undefined],
    ['1.2.3.4/32[bogus/1701]', undefined],
    ['1.2.3.4/32[udp/70000]', undefined],
    ['1.2.3.4/32[udp/9-3]', undefined],
    ['', undefined],
  ];
  for (const [text, expected] of cases) {
    test(JSON.stringify(text), () => assert.deepEqual(parseTrafficSelector(text), expected));
  }
});

describe('singleUdpPort', () => {
  test('pinned UDP port only', () => {
    const port = (t: string) => {
      const ts = parseTrafficSelector(t);
      assert.ok(ts, t);
      return singleUdpPort(ts);
    };
    assert.equal(port('1.2.3.4/32[udp/l2f]'), 1701);
    assert.equal(port('1.2.3.4/32[udp/4500]'), 4500);
    assert.equal(port('1.2.3.4/32[udp]'), undefined);
    assert.equal(port('1.2.3.4/32[udp/1000-2000]'), undefined);
    assert.equal(port('1.2.3.4/32[tcp/1701]'), undefined);
    assert.equal(port('1.2.3.4/32'), undefined);
  });
});

test('normalizeAddress maps IPv4-mapped IPv6 to IPv4 and lower-cases IPv6', () => {
  assert.equal(normalizeAddress('::ffff:203.0.113.5'), '203.0.113.5');
  assert.equal(normalizeAddress('::FFFF:203.0.113.5'), '203.0.113.5');
  assert.equal(normalizeAddress('2001:DB8::1'), '2001:db8::1');
  assert.equal(normalizeAddress('203.0.113.5'), '203.0.113.5');
});
