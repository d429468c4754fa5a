import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeMessage,
  encodeMessage,
  expectSuccess,
  listSasMessage,
  loadL2tpPskConnMessage,
  loadSharedIkeMessage,
  terminateIkeMessage,
  unloadConnMessage,
  ViciCommandError,
} from '../../../../edge-agent/src/vici';

/** Any lists will do: the builder passes them through (choosing them is ipsec/proposals.ts's job). */
const ike = ['aes256-sha256-modp2048', 'aes128-sha256-modp2048', 'aes256-sha1-modp2048', 'aes128-sha1-modp2048'];
const esp = ['aes256-sha256', 'aes128-sha256', 'aes256-sha1', 'aes128-sha1'];

describe('load-conn for IKEv1 PSK transport-mode L2TP', () => {
  test('exact structure with defaults', () => {
    assert.deepEqual(loadL2tpPskConnMessage({ name: 'l2tp-psk', ikeProposals: ike, espProposals: esp }), {
      'l2tp-psk': {
        version: '1',
        local_addrs: ['%any'],
        remote_addrs: ['%any'],
        proposals: ['aes256-sha256-modp2048', 'aes128-sha256-modp2048', 'aes256-sha1-modp2048', 'aes128-sha1-modp2048'],
        dpd_delay: '30s',
        dpd_timeout: '150s',
        encap: 'no',
        unique: 'never',
        fragmentation: 'yes',
        local: { auth: 'psk' },
        remote: { auth: 'psk' },
        children: {
          l2tp: {
            mode: 'transport',
            local_ts: ['dynamic[udp/1701]'],
            remote_ts: ['dynamic[udp]'],
            esp_proposals: ['aes256-sha256', 'aes128-sha256', 'aes256-sha1', 'aes128-sha1'],
            dpd_action: 'clear',
            start_action: 'none',
            close_action: 'none',
          },
        },
      },
    });
  });

  test('options: addresses, identity, forced encapsulation, DPD, child name', () => {
    const m = loadL2tpPskConnMessage({
      name: 'c',
      localAddrs: ['203.0.113.5'],
      remoteAddrs: ['0.0.0.0/0'],
      ikeProposals: ['aes128-sha1-modp1024'],
      espProposals: ['3des-sha1'],
      dpdDelay: '10s',
      dpdTimeout: '60s',
      forceEncap: true,
      localId: '203.0.113.5',
      childName: 'l2tp-child',
    }) as Record<string, Record<string, unknown>>;
    const conn = m.c!;
    assert.deepEqual(conn.local_addrs, ['203.0.113.5']);
    assert.deepEqual(conn.remote_addrs, ['0.0.0.0/0']);
    assert.equal(conn.encap, 'yes');
    assert.equal(conn.dpd_delay, '10s');
    assert.equal(conn.dpd_timeout, '60s');
    assert.deepEqual(conn.local, { auth: 'psk', id: '203.0.113.5' });
    assert.deepEqual(Object.keys(conn.children as object), ['l2tp-child']);
  });

  test('encodes and decodes back unchanged', () => {
    const m = loadL2tpPskConnMessage({ name: 'l2tp-psk', ikeProposals: ike, espProposals: esp });
    assert.deepEqual(decodeMessage(encodeMessage(m)), m);
  });
});

describe('other builders', () => {
  test('load-shared: IKE type, data, owners', () => {
    assert.deepEqual(loadSharedIkeMessage({ secret: 's3cret', owners: ['%any'] }), { type: 'IKE', data: 's3cret', owners: ['%any'] });
    assert.deepEqual(loadSharedIkeMessage({ secret: 'x' }), { type: 'IKE', data: 'x', owners: [] });
    const bin = Buffer.from([0, 1, 2, 0xff]);
    assert.deepEqual(loadSharedIkeMessage({ id: 'psk-1', secret: bin }), { id: 'psk-1', type: 'IKE', data: bin, owners: [] });
  });
  // Regression: the key was `ike_id`; charon (vici_control.c) reads `ike-id` and answered
  // "missing terminate selector", so an operator disconnect never cleared the client's SA.
  test('terminate by IKE unique id uses the key ike-id', () => {
    assert.deepEqual(terminateIkeMessage({ ikeId: 7 }), { 'ike-id': '7' });
    assert.deepEqual(terminateIkeMessage({ ikeId: '7', timeoutMs: -1, force: true }), { 'ike-id': '7', timeout: '-1', force: 'yes' });
  });
  test('list-sas filters', () => {
    assert.deepEqual(listSasMessage(), {});
    assert.deepEqual(listSasMessage({ noblock: true, ike: 'l2tp-psk', ikeId: 3 }), { noblock: 'yes', ike: 'l2tp-psk', 'ike-id': '3' });
  });
  test('unload-conn', () => assert.deepEqual(unloadConnMessage('l2tp-psk'), { name: 'l2tp-psk' }));
  test('expectSuccess', () => {
    assert.deepEqual(expectSuccess('x', { success: 'yes' }), { success: 'yes' });
    assert.throws(() => expectSuccess('load-conn', { success: 'no', errmsg: 'bad proposal' }), /load-conn failed: bad proposal/);
    assert.throws(() => expectSuccess('load-conn', {}), ViciCommandError);
  });
});
