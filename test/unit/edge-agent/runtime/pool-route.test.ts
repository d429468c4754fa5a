/**
 * The pool route the agent takes from the broker's start reply (edge-agent/src/runtime/pool-route.ts):
 * the block the broker parsed, else the CIDR text of a broker from before it, else the address alone.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCidr } from '../../../../contract/src/ipv4';
import { parseIpv4 } from '../../../../edge-agent/src/datapath';
import { poolRouteOf } from '../../../../edge-agent/src/runtime/pool-route';
import { startHarness, type Harness } from '../../../support/agent/agent-harness';

const address = parseIpv4('10.8.0.10')!;
const routed = (h: Harness) => h.link.configured.flatMap((s) => [...s.routes, ...s.addresses]);

describe('poolRouteOf', () => {
  test('takes the broker\'s block, else the cidr text, else the address alone', () => {
    const block = { network: '10.8.0.0', prefixLength: 24 };
    assert.equal(formatCidr(poolRouteOf({ block, cidr: '10.9.0.0/16', gateway: '10.8.0.1' }, address).block), '10.8.0.0/24');
    assert.equal(formatCidr(poolRouteOf({ cidr: '10.8.0.0/23', gateway: '10.8.0.1' }, address).block), '10.8.0.0/23');
    assert.equal(formatCidr(poolRouteOf({ gateway: '10.8.0.1' }, address).block), '10.8.0.10/32');
    assert.equal(formatCidr(poolRouteOf({ block: { network: '10.8.0.5', prefixLength: 24 }, cidr: '10.8.0.0/22', gateway: '10.8.0.1' }, address).block), '10.8.0.0/22', 'a block with host bits is no block');
    assert.deepEqual(poolRouteOf({ block, gateway: '10.8.0.1' }, address).gatewayAddress, parseIpv4('10.8.0.1'));
    assert.equal(poolRouteOf({ block, gateway: 'nonsense' }, address).gatewayAddress, undefined);
  });
});

describe('the agent routes the pool it is handed', () => {
  test('the block of the start reply, once per pool, with the gateway', async () => {
    const h = startHarness();
    h.broker.nextStarts.push({ address: '10.8.0.10', cidr: '10.8.0.0/24', block: { network: '10.8.0.0', prefixLength: 25 } });
    const { call } = await h.connect(h.client('198.51.100.7'), 100);
    assert.equal(call.up?.address, '10.8.0.10');
    assert.deepEqual([...new Set(routed(h))].sort(), ['10.8.0.0/25', '10.8.0.1/32']);
    await h.agent.shutdown();
  });

  test('a broker from before the block field: the same route from its cidr', async () => {
    const h = startHarness();
    h.broker.legacyStartReplies = true;
    const { call } = await h.connect(h.client('198.51.100.7'), 100);
    assert.ok(call.up);
    assert.deepEqual([...new Set(routed(h))].sort(), ['10.8.0.0/24', '10.8.0.1/32']);
    await h.agent.shutdown();
  });
});
