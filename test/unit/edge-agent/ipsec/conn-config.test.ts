import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  l2tpConnMessage,
  l2tpProposals,
  l2tpPskMessage,
  LEGACY_ESP_PROPOSALS,
  LEGACY_IKE_PROPOSALS,
  PSK_SECRET_ID,
  SECURE_ESP_PROPOSALS,
  SECURE_IKE_PROPOSALS,
} from '../../../../edge-agent/src/ipsec';
import { encodeMessage } from '../../../../edge-agent/src/vici';

describe('l2tpProposals', () => {
  test('secure first; legacy (MODP1024/1536, 3DES) only when allowed', () => {
    const strict = l2tpProposals(false);
    assert.deepEqual(strict.ike, [...SECURE_IKE_PROPOSALS]);
    assert.deepEqual(strict.esp, [...SECURE_ESP_PROPOSALS]);
    assert.ok(!strict.ike.some((p) => /3des|modp1024|modp1536/.test(p)));
    assert.ok(!strict.esp.some((p) => /3des/.test(p)));
    const legacy = l2tpProposals(true);
    assert.deepEqual(legacy.ike, [...SECURE_IKE_PROPOSALS, ...LEGACY_IKE_PROPOSALS]);
    assert.deepEqual(legacy.esp, [...SECURE_ESP_PROPOSALS, ...LEGACY_ESP_PROPOSALS]);
    assert.equal(legacy.ike[0], 'aes256-sha256-modp2048');
    assert.ok(legacy.ike.includes('3des-sha1-modp1024'));
    assert.ok(legacy.ike.includes('aes256-sha1-ecp384'), 'Windows 10/11 offer ECP384 with SHA1');
  });
});

describe('l2tpConnMessage', () => {
  test('IKEv1 PSK responder, transport mode L2TP child, with %unique marks', () => {
    const m = l2tpConnMessage({ allowLegacyProposals: false, uniqueMarks: true });
    assert.deepEqual(m, {
      'l2tp-psk': {
        version: '1',
        local_addrs: ['%any'],
        remote_addrs: ['0.0.0.0/0'],
        proposals: [...SECURE_IKE_PROPOSALS],
        dpd_delay: '30s',
        dpd_timeout: '150s',
        encap: 'no',
        unique: 'never',
        fragmentation: 'yes',
        local: { auth: 'psk' },
        remote: { auth: 'psk' },
        rekey_time: '0s',
        reauth_time: '0s',
        children: {
          l2tp: {
            mode: 'transport',
            local_ts: ['dynamic[udp/1701]'],
            remote_ts: ['dynamic[udp]'],
            esp_proposals: [...SECURE_ESP_PROPOSALS],
            dpd_action: 'clear',
            start_action: 'none',
            close_action: 'none',
            rekey_time: '1h',
            mark_in: '%unique',
            mark_out: '%unique',
          },
        },
      },
    });
    assert.ok(encodeMessage(m).length > 0);
  });

  test('marks read by the agent\'s socket: the kernel marks decrypted packets with the SA\'s inbound mark (set_mark_in = %same)', () => {
    const child = (m: ReturnType<typeof l2tpConnMessage>) => ((m['l2tp-psk'] as Record<string, unknown>).children as Record<string, Record<string, unknown>>).l2tp!;
    const marked = child(l2tpConnMessage({ allowLegacyProposals: false, uniqueMarks: true, setMarkIn: true }));
    assert.deepEqual([marked.mark_in, marked.mark_out, marked.set_mark_in], ['%unique', '%unique', '%same']);
    // set_mark_in alone would mark packets that no marked policy expects: only together with marks.
    assert.equal(child(l2tpConnMessage({ allowLegacyProposals: false, uniqueMarks: false, setMarkIn: true })).set_mark_in, undefined);
  });

  test('without marks: no mark keys and any remote address family', () => {
    const m = l2tpConnMessage({ allowLegacyProposals: true, uniqueMarks: false, localId: '198.51.100.1', forceEncap: true });
    const conn = m['l2tp-psk'] as Record<string, unknown>;
    const child = (conn.children as Record<string, Record<string, unknown>>).l2tp ?? {};
    assert.equal(child.mark_in, undefined);
    assert.equal(child.mark_out, undefined);
    assert.deepEqual(conn.remote_addrs, ['%any']);
    assert.equal(conn.encap, 'yes');
    assert.deepEqual(conn.local, { auth: 'psk', id: '198.51.100.1' });
    assert.deepEqual(conn.proposals, l2tpProposals(true).ike);
    assert.deepEqual(child.esp_proposals, l2tpProposals(true).esp);
  });

  test('cloud 1:1 NAT mode: local_addrs is the public address the agent made local (issue 15)', () => {
    const m = l2tpConnMessage({ allowLegacyProposals: true, uniqueMarks: true, localAddrs: ['203.0.113.7'] });
    assert.deepEqual((m['l2tp-psk'] as Record<string, unknown>).local_addrs, ['203.0.113.7']);
    assert.deepEqual((l2tpConnMessage({ allowLegacyProposals: true, uniqueMarks: true })['l2tp-psk'] as Record<string, unknown>).local_addrs, ['%any']);
  });

  test('PSK message: IKE type, fixed id (replaceable), any owner', () => {
    assert.deepEqual(l2tpPskMessage('s3cret'), { id: PSK_SECRET_ID, type: 'IKE', data: 's3cret', owners: [] });
  });
});
