import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIpv4, isCidrError, parseCidr, parseIpv4, rangesOverlap } from '../../../contract/src/ipv4';
import { candidateAddresses, isInPool, parsePool, validatePool, type PoolShape } from '../../../functions/src/domain/ip-allocation';

const candidates = (shape: PoolShape) => candidateAddresses(parsePool(shape)!);

describe('parseIpv4 / formatIpv4', () => {
  test('parses dotted quads to unsigned numbers', () => {
    assert.equal(parseIpv4('0.0.0.0'), 0);
    assert.equal(parseIpv4('10.8.0.1'), 0x0a080001);
    assert.equal(parseIpv4('255.255.255.255'), 0xffffffff);
  });
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-1', 'a.b.c.d', '1..2.3', ' 1.2.3.4', '1.2.3.4 ']) {
    test(`rejects ${JSON.stringify(bad)}`, () => assert.equal(parseIpv4(bad), undefined));
  }
  test('format(parse(x)) round-trips every 32-bit value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        assert.equal(parseIpv4(formatIpv4(n)), n);
      }),
    );
  });
  test('formats the high bit correctly (no sign)', () => assert.equal(formatIpv4(0xc0a80101), '192.168.1.1'));
});

describe('parseCidr', () => {
  test('computes network, last and size', () => {
    const c = parseCidr('10.8.0.0/24');
    assert.ok(!isCidrError(c));
    assert.equal(formatIpv4(c.network), '10.8.0.0');
    assert.equal(formatIpv4(c.last), '10.8.0.255');
    assert.equal(c.size, 256);
    const all = parseCidr('0.0.0.0/0');
    assert.ok(!isCidrError(all));
    assert.equal(all.last, 0xffffffff);
  });
  test('host bits set: error names the intended block', () => {
    const c = parseCidr('10.8.0.5/24');
    assert.ok(isCidrError(c));
    assert.match(c.error, /host bits set.*10\.8\.0\.0\/24/);
  });
  for (const bad of ['10.8.0.0', '10.8.0.0/33', '10.8.0.0/', '10.8.0/24', '10.8.0.0/2a']) {
    test(`rejects ${bad}`, () => assert.ok(isCidrError(parseCidr(bad))));
  }
  test('rangesOverlap is inclusive', () => {
    assert.equal(rangesOverlap(1, 5, 5, 9), true);
    assert.equal(rangesOverlap(1, 4, 5, 9), false);
    assert.equal(rangesOverlap(6, 7, 1, 9), true);
  });
});

const pool = { cidr: '10.8.0.0/29', gateway: '10.8.0.1', exclude: [{ first: '10.8.0.4', last: '10.8.0.5' }] };

describe('pool addresses', () => {
  test('candidates exclude network, broadcast, gateway and excluded ranges', () => {
    assert.deepEqual(candidates(pool).map(formatIpv4), ['10.8.0.2', '10.8.0.3', '10.8.0.6']);
  });
  test('isInPool agrees with the candidates', () => {
    for (let i = 0; i < 8; i++) {
      const ip = `10.8.0.${i}`;
      assert.equal(isInPool(pool, ip), ['10.8.0.2', '10.8.0.3', '10.8.0.6'].includes(ip), ip);
    }
    assert.equal(isInPool(pool, '10.8.1.2'), false);
    assert.equal(isInPool(pool, 'nonsense'), false);
  });
  test('a /31 uses both addresses (RFC 3021) except the gateway', () => {
    assert.deepEqual(candidates({ cidr: '10.9.0.0/31', gateway: '10.9.0.0', exclude: [] }).map(formatIpv4), ['10.9.0.1']);
  });
  test('a /24 with gateway .1 has 253 candidates', () => {
    assert.equal(candidates({ cidr: '10.8.0.0/24', gateway: '10.8.0.1', exclude: [] }).length, 253);
  });
});

describe('validatePool', () => {
  test('a good pool has no problems', () => {
    assert.deepEqual(validatePool({ ...pool, dns: ['1.1.1.1'] }), []);
  });
  test('collects every problem with its field', () => {
    const problems = validatePool({
      cidr: '10.8.0.0/24',
      gateway: '10.9.0.1',
      exclude: [{ first: '10.8.0.20', last: '10.8.0.10' }, { first: '10.8.0.1', last: 'x' }],
      dns: ['8.8.8'],
    });
    assert.deepEqual(
      problems.map((p) => p.field),
      ['gateway', 'exclude[0]', 'exclude[1].last', 'dns[0]'],
    );
    assert.match(problems[0]!.message, /outside the pool 10\.8\.0\.0\/24/);
    assert.match(problems[1]!.message, /ends before it starts/);
  });
  test('rejects a bad CIDR, an oversized pool, and a gateway on the broadcast address', () => {
    assert.equal(validatePool({ cidr: '10.8.0.1/24', gateway: '10.8.0.1', exclude: [] })[0]?.field, 'cidr');
    assert.match(validatePool({ cidr: '10.0.0.0/8', gateway: '10.0.0.1', exclude: [] })[0]!.message, /too large/);
    assert.match(validatePool({ cidr: '10.8.0.0/24', gateway: '10.8.0.255', exclude: [] })[0]!.message, /broadcast/);
  });
  test('a pool with nothing left to lease is rejected', () => {
    const problems = validatePool({ cidr: '10.8.0.0/30', gateway: '10.8.0.1', exclude: [{ first: '10.8.0.2', last: '10.8.0.2' }] });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!.message, /no address left/);
  });
  test('overlap with another pool of the tenant is reported, the pool itself is not', () => {
    const others = [
      { poolId: 'a', cidr: '10.8.0.0/16' },
      { poolId: 'self', cidr: '10.8.0.0/24' },
      { poolId: 'b', cidr: '10.7.0.0/24' },
    ];
    const problems = validatePool({ ...pool, poolId: 'self' }, others);
    assert.deepEqual(problems, [{ kind: 'overlap', field: 'cidr', message: '10.8.0.0/29 overlaps pool a (10.8.0.0/16)' }]);
  });
});
