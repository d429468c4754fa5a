/**
 * The real agent in-process (launchAgent: real TUN, real UDP on loopback, BrokerClient) against a
 * real broker on DynamoDB Local; the in-process LAC + PPP client brings a session up over real UDP
 * and pings the pool gateway on the TUN, which the kernel answers. Needs root (CAP_NET_ADMIN).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadAgentConfig, parseArgs } from '../../../edge-agent/src/config';
import { encodeIcmpEcho, isEchoReplyTo, parseIpv4 } from '../../../edge-agent/src/datapath';
import { openUdp } from '../../../edge-agent/src/io/udp';
import { createPppClientCrypto } from '../../../edge-agent/src/ppp';
import { freeUdpPort } from '../../support/free-udp-port';
import { launchAgent } from '../../../edge-agent/src/runtime/launch';
import { systemTimers } from '../../../edge-agent/src/clock';
import { freePort } from '../../../scripts/lib/dynamodb-local';
import { startLiveBroker } from '../../support/live-broker';
import { LacHost } from '../../support/agent/lac';
import { fixturePassword } from '../../support/fixture-password';

const isRoot = process.getuid?.() === 0;

async function until(condition: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('real agent: L2TP + PPP (MS-CHAPv2) over loopback UDP, kernel answers a ping to the pool gateway on the TUN', { skip: isRoot ? false : 'needs root (CAP_NET_ADMIN) for a TUN device', timeout: 120_000 }, async () => {
  const broker = await startLiveBroker();
  const third = 1 + (randomBytes(1)[0]! % 250);
  const cidr = `10.77.${third}.0/24`;
  const gateway = `10.77.${third}.1`;
  const tunName = `tbrit${randomBytes(2).toString('hex')}`;
  const stateDir = mkdtempSync(join(tmpdir(), 'edge-agent-it-'));
  const socket = await openUdp({ address: '127.0.0.1', port: 0 });
  let agent: Awaited<ReturnType<typeof launchAgent>> | undefined;
  try {
    await broker.seedTenant('acme77', { cidr, users: ['alice'] });
    const { agentId, token } = await broker.enrolAgent();
    const port = await freePort();
    const config = loadAgentConfig(parseArgs([]), {
      BROKER_URL: broker.url,
      AGENT_ID: agentId,
      AGENT_TOKEN: token,
      L2TP_LISTEN: `127.0.0.1:${port}`,
      COMMAND_NUDGE_PORT: String(await freeUdpPort()),
      TUN_NAME: tunName,
      IPSEC: 'off',
      ALLOW_PLAIN_L2TP: 'true',
      STATE_DIR: stateDir,
      PUBLIC_ADDRESS: '127.0.0.1',
      METRICS_LISTEN: 'off',
    });
    agent = await launchAgent(config, pino({ level: 'silent' }), { options: { heartbeatIntervalMs: 1000 } });

    const timers = systemTimers();
    const host = new LacHost(socket, { address: '127.0.0.1', port }, timers);
    const lac = host.lac(4242, (n) => randomBytes(n));
    lac.open();
    await until(() => lac.established, 'tunnel established');
    const call = lac.placeCall({ username: 'alice@acme77', password: fixturePassword('alice'), crypto: await createPppClientCrypto(fixturePassword('alice')), random: (n) => randomBytes(n) });
    await until(() => call.up !== undefined || call.cleared !== undefined, 'PPP up');
    assert.ok(call.up, `call cleared: ${JSON.stringify(call.cleared)}`);
    assert.equal(call.up.authMethod, 'mschapv2');
    assert.equal(call.up.gateway, gateway);
    const address = call.up.address;
    assert.ok(address.startsWith(`10.77.${third}.`), address);

    await until(() => execFileSync('ip', ['route', 'show', 'dev', tunName]).toString().includes(cidr), 'pool route on the TUN');
    const request = encodeIcmpEcho({ source: parseIpv4(address)!, destination: parseIpv4(gateway)!, identifier: 0x77, sequence: 1, payload: Buffer.from('ping') });
    call.sendIpv4(request);
    await until(() => call.received.some((p) => isEchoReplyTo(p, request)), 'echo reply from the kernel');
    const session = agent.sessions()[0]!;
    const counters = agent.countersOf(session);
    assert.ok(counters.packetsIn >= 1 && counters.packetsOut >= 1);

    await agent.shutdown();
    agent = undefined;
    assert.equal(call.cleared?.resultCode?.errorMessage, 'agent-shutdown');
    const listed = await broker.admin<{ items: { state: string; endReason?: string }[] }>('GET', '/v1/sessions?tenantId=acme77');
    assert.equal(listed.body.items[0]?.state, 'stopped');
    assert.equal(listed.body.items[0]?.endReason, 'agent-shutdown');
    lac.dispose();
  } finally {
    await agent?.shutdown().catch(() => {});
    await socket.close();
    await broker.close();
    rmSync(stateDir, { recursive: true, force: true });
    try {
      execFileSync('ip', ['link', 'del', tunName], { stdio: 'ignore' });
    } catch {
      // already gone with the TUN fd
    }
  }
});
