/** A tenant's RADIUS servers can never be link-local, multicast or broadcast addresses, typed or resolved. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refusedRadiusAddress, resolveRadiusHost } from '../../../../functions/src/radius/destination';

test('the cloud metadata service, link-local, multicast, broadcast and "this network" are refused', () => {
  for (const address of ['169.254.169.254', '169.254.169.253', '169.254.0.1', '224.0.0.1', '239.255.255.250', '255.255.255.255', '240.0.0.1', '0.0.0.0', '0.1.2.3']) {
    assert.ok(refusedRadiusAddress(address), address);
  }
  for (const address of ['::', 'fe80::1', 'ff02::1', 'fd00:ec2::254', '::ffff:169.254.169.254']) assert.ok(refusedRadiusAddress(address), address);
});

test('private ranges, loopback and public addresses stay allowed (an NPS behind a VPN, the local FreeRADIUS)', () => {
  for (const address of ['10.20.0.5', '172.16.0.1', '192.168.1.10', '127.0.0.1', '100.64.0.1', '198.51.100.7', '169.253.255.255', '169.255.0.1', '223.255.255.255', 'fd12::1', '::1', '2001:db8::5']) {
    assert.equal(refusedRadiusAddress(address), undefined, address);
  }
});

test('a DNS name is checked on what it resolves to at each exchange', async () => {
  const points = (address: string) => async () => ({ address });
  assert.deepEqual(await resolveRadiusHost('nps.example.com', points('10.0.0.9')), { ok: true, address: '10.0.0.9' });
  const rebound = await resolveRadiusHost('nps.example.com', points('169.254.169.254'));
  assert.equal(rebound.ok, false);
  assert.equal(!rebound.ok && rebound.outcome, 'forbidden');
  const gone = await resolveRadiusHost('nps.example.com', async () => {
    throw new Error('ENOTFOUND');
  });
  assert.equal(!gone.ok && gone.outcome, 'unresolvable');
  assert.equal((await resolveRadiusHost('224.0.0.1')).ok, false, 'a literal is checked without DNS');
});
