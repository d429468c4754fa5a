/**
 * The controller against a real charon (strongSwan 5.9): VICI and config loading work even though
 * this host kernel has no ESP/xfrm support. charon runs in a private mount namespace with its own
 * /run and a minimal strongswan.conf whose VICI socket is a temp path and whose IKE ports are
 * random, so it cannot disturb (or be disturbed by) a system charon.
 *
 * Needs root, /usr/lib/ipsec/charon and its vici plugin (Debian: strongswan-charon,
 * strongswan-swanctl for the vici plugin, libstrongswan-standard-plugins for openssl and connmark).
 * Skips with a message otherwise.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createIpsecController,
  l2tpProposals,
  PSK_SECRET_ID,
  type IpsecController,
} from '../../../edge-agent/src/ipsec';
import { connectVici, type ViciClient, type ViciMessage, type ViciSection } from '../../../edge-agent/src/vici';

const CHARON = '/usr/lib/ipsec/charon';
/** Debian ships the vici plugin in strongswan-swanctl. */
const VICI_PLUGIN = '/usr/lib/ipsec/plugins/libstrongswan-vici.so';
const skip =
  process.getuid?.() !== 0
    ? 'needs root (private mount namespace for charon)'
    : !existsSync(CHARON) || !existsSync(VICI_PLUGIN)
      ? `${CHARON} or ${VICI_PLUGIN} not installed (apt-get install strongswan-charon strongswan-swanctl libstrongswan-standard-plugins)`
      : spawnSync('unshare', ['--help']).status !== 0
        ? 'unshare(1) not available'
        : false;

/** Proposal keywords -> the algorithm names charon's get-algorithms reports. */
const ALGORITHMS: Record<string, [string, string]> = {
  aes256: ['encryption', 'AES_CBC'],
  aes128: ['encryption', 'AES_CBC'],
  '3des': ['encryption', '3DES_CBC'],
  sha256: ['integrity', 'HMAC_SHA2_256_128'],
  sha1: ['integrity', 'HMAC_SHA1_96'],
  modp2048: ['dh', 'MODP_2048'],
  modp1536: ['dh', 'MODP_1536'],
  modp1024: ['dh', 'MODP_1024'],
  ecp256: ['dh', 'ECP_256'],
  ecp384: ['dh', 'ECP_384'],
};

describe('IPsec controller against a real charon', { skip }, () => {
  let dir: string;
  let socket: string;
  let charon: ChildProcess;
  let controller: IpsecController;
  let vici: ViciClient;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'charon-'));
    socket = join(dir, 'charon.vici');
    writeFileSync(
      join(dir, 'strongswan.conf'),
      `charon {
  load = random nonce openssl pem pkcs1 x509 revocation constraints pubkey socket-default kernel-netlink vici connmark
  port = 0
  port_nat_t = 0
  install_routes = no
  install_virtual_ip = no
  filelog {
    log { path = ${join(dir, 'charon.log')}
      default = 1
    }
  }
  plugins {
    vici { socket = unix://${socket} }
  }
}
`,
    );
    charon = spawn('unshare', ['-m', 'sh', '-c', `mount -t tmpfs tmpfs /run && mkdir -p /run/strongswan && exec ${CHARON}`], {
      env: { ...process.env, STRONGSWAN_CONF: join(dir, 'strongswan.conf') },
      stdio: 'ignore',
    });
    const deadline = Date.now() + 10_000;
    while (!existsSync(socket)) {
      if (Date.now() > deadline || charon.exitCode !== null) {
        throw new Error(`charon did not open ${socket}; log:\n${existsSync(join(dir, 'charon.log')) ? readFileSync(join(dir, 'charon.log'), 'utf8') : '(none)'}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    // The socket file exists from bind(); charon listens a moment later (a busy machine widens the gap).
    for (;;) {
      try {
        vici = await connectVici(socket);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    controller = createIpsecController({ viciSocket: socket, retry: { initialMs: 50, maxMs: 200 } });
  });

  after(async () => {
    await controller?.close();
    await vici?.close();
    if (charon && charon.exitCode === null) {
      const exited = new Promise((r) => charon.once('exit', r));
      charon.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (charon.exitCode === null) charon.kill('SIGKILL');
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function listConns(): Promise<Record<string, ViciSection>> {
    const out: Record<string, ViciSection> = {};
    await vici.streamedRequest('list-conns', {}, 'list-conn', (m: ViciMessage) => Object.assign(out, m));
    return out;
  }

  test('apply loads the PSK and an IKEv1 transport-mode L2TP connection charon accepts', async () => {
    await controller.apply({ revision: 1, ipsec: { psk: 'integration-psk', allowLegacyProposals: true } });
    assert.equal(controller.status().uniqueMarks, true, 'connmark plugin detected from stats');

    const conns = await listConns();
    const conn = conns['l2tp-psk'];
    assert.ok(conn, `l2tp-psk loaded; got ${Object.keys(conns).join(', ')}`);
    assert.equal(conn.version, 'IKEv1');
    assert.equal(conn.unique, 'UNIQUE_NEVER');
    assert.equal(conn.dpd_delay, '30');
    assert.equal(conn.rekey_time, '0');
    assert.deepEqual(conn.remote_addrs, ['0.0.0.0/0']);
    assert.equal((conn['local-1'] as ViciSection).class, 'pre-shared key');
    assert.equal((conn['remote-1'] as ViciSection).class, 'pre-shared key');
    const child = (conn.children as Record<string, ViciSection>).l2tp;
    assert.ok(child);
    assert.equal(child.mode, 'TRANSPORT');
    assert.equal(child.rekey_time, '3600');
    assert.match(String((child['local-ts'] as string[])[0]), /^dynamic\[udp\/(l2f|1701)\]$/);
    assert.deepEqual(child['remote-ts'], ['dynamic[udp]']);

    const shared = await vici.request('get-shared');
    assert.deepEqual(shared.keys, [PSK_SECRET_ID]);
  });

  test('every algorithm our proposals name is available in this charon, and charon validates proposals', async () => {
    // strongSwan 5.9 list-conns does not report proposals; load-conn parsing every proposal (it
    // rejects unknown ones, checked below) plus get-algorithms stands in for that.
    const algs = await vici.request('get-algorithms');
    const { ike, esp } = l2tpProposals(true);
    for (const proposal of [...ike, ...esp]) {
      for (const token of proposal.split('-')) {
        const entry = ALGORITHMS[token];
        assert.ok(entry, `no mapping for ${token}`);
        const [kind, name] = entry;
        assert.ok((algs[kind] as ViciSection | undefined)?.[name], `${proposal}: ${kind} ${name} not loaded`);
      }
    }
    const bad = await vici.request('load-conn', { probe: { version: '1', proposals: ['aes999-sha1-modp2048'], local: { auth: 'psk' }, remote: { auth: 'psk' } } });
    assert.equal(bad.success, 'no');
    assert.match(String(bad.errmsg), /proposals/);
  });

  test('reload on a new revision, SA tracking starts empty, and ipsec=null unloads', async () => {
    await controller.apply({ revision: 2, ipsec: { psk: 'rotated-psk', allowLegacyProposals: false } });
    assert.equal(controller.status().appliedRevision, 2);
    assert.ok((await listConns())['l2tp-psk']);
    assert.deepEqual((await vici.request('get-shared')).keys, [PSK_SECRET_ID], 'replaced, not added');
    assert.equal(controller.peerProtection('203.0.113.5', 1701), 'unprotected');
    assert.deepEqual(await controller.terminateForPeer('203.0.113.5', 1701), { outcome: 'no-sa' });

    await controller.apply({ revision: 3, ipsec: null });
    assert.equal((await listConns())['l2tp-psk'], undefined);
    assert.deepEqual((await vici.request('get-shared')).keys ?? [], []);
  });
});
