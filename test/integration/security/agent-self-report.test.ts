/**
 * Issue 14 finding 8 (and issue 18): an agent's own report must not override its enrolment. The
 * fleet's boot script starts the agent without a capacity, so the agent's default (10000) replaced
 * the enrolled 100 and utilisation read ~100x too low; any agent could also register another
 * public address and become a tenant's endpoint.
 *
 * The real credentials script of the boot script (infra/lib/agent-boot-script.ts) runs with bash,
 * its two absolute paths pointed at stubs for IMDS (curl) and SSM (aws); the environment file it
 * writes is the real agent's configuration (loadAgentConfig), and the real agent (launchAgent, real
 * TUN, real HTTP) registers with a real broker on DynamoDB Local. Needs root for the TUN.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadAgentConfig, parseArgs } from '../../../edge-agent/src/config';
import { launchAgent } from '../../../edge-agent/src/runtime/launch';
import { AGENT_ENV_FILE, credentialsScript } from '../../../infra/lib/agent-boot-script';
import { freePort } from '../../../scripts/lib/dynamodb-local';
import { freeUdpPort } from '../../support/free-udp-port';
import { startLiveBroker } from '../../support/live-broker';

const isRoot = process.getuid?.() === 0;
const INSTANCE_ID = 'i-0123456789abcdef0';
const PUBLIC_IP = '198.51.100.7';
const VPC_CIDRS = ['172.31.0.0/16', '10.201.0.0/16'];

async function until<T>(probe: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Runs the boot script's credentials script with stub curl (IMDSv2) and aws (SSM); returns the env file it wrote. */
function runCredentialsScript(dir: string, brokerUrl: string, token: string): Record<string, string> {
  const curl = join(dir, 'curl');
  writeFileSync(
    curl,
    [
      '#!/bin/bash',
      'url="${@: -1}"',
      'case "$url" in',
      '  */latest/api/token) echo imds-session ;;',
      `  */meta-data/instance-id) echo ${INSTANCE_ID} ;;`,
      '  */meta-data/placement/region) echo eu-west-1 ;;',
      `  */meta-data/public-ipv4) echo ${PUBLIC_IP} ;;`,
      '  */meta-data/mac) echo 02:00:00:aa:bb:cc ;;',
      `  */meta-data/network/interfaces/macs/02:00:00:aa:bb:cc/vpc-ipv4-cidr-blocks) printf '${VPC_CIDRS.join('\\n')}\\n' ;;`,
      '  *) echo "unexpected IMDS path $url" >&2; exit 22 ;;',
      'esac',
    ].join('\n'),
  );
  const aws = join(dir, 'aws');
  writeFileSync(aws, `#!/bin/bash\n[[ "$*" == *"--name /tb/agents/${INSTANCE_ID}"* ]] || { echo "unexpected: $*" >&2; exit 1; }\necho '${token}'\n`);
  chmodSync(curl, 0o755);
  chmodSync(aws, 0o755);
  const envFile = join(dir, 'agent.env');
  const script = credentialsScript({
    agentBundleS3Url: 's3://bucket/edge-agent.zip',
    brokerUrl,
    tokenParameterPrefix: '/tb/agents/',
    nodeVersion: 'v22.11.0',
    architecture: 'x64',
    agentArgs: [],
  })
    .join('\n')
    .replaceAll('/snap/bin/aws', aws)
    .replaceAll(AGENT_ENV_FILE, envFile);
  execFileSync('bash', ['-c', script], { env: { PATH: `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}` }, stdio: ['ignore', 'ignore', 'pipe'] });
  const env: Record<string, string> = {};
  for (const line of readFileSync(envFile, 'utf8').split('\n')) {
    const cut = line.indexOf('=');
    if (cut > 0) env[line.slice(0, cut)] = line.slice(cut + 1);
  }
  return env;
}

test(
  'boot script settings: enrolled capacity 1000 stays 1000 (the agent defaults to 10000), the address is pinned, the VPC is off-limits to pools',
  { skip: isRoot ? false : 'needs root (CAP_NET_ADMIN) for a TUN device', timeout: 120_000 },
  async () => {
    const broker = await startLiveBroker();
    const dir = mkdtempSync(join(tmpdir(), 'boot-script-'));
    const tunName = `tbrbs${randomBytes(2).toString('hex')}`;
    let agent: Awaited<ReturnType<typeof launchAgent>> | undefined;
    try {
      // The operator's manual enrolment (the boot script's comment): POST /v1/agents with a capacity.
      const enrolled = await broker.admin<{ agentId: string; token: string }>('POST', '/v1/agents', { name: INSTANCE_ID, capacity: 1000 });
      assert.equal(enrolled.status, 201);
      const env = runCredentialsScript(dir, broker.url, enrolled.body.token);
      assert.equal(env.AGENT_ID, enrolled.body.agentId);
      assert.equal(env.CAPACITY, undefined, 'the boot script sets no capacity: the agent uses its default');
      assert.equal(env.HOST_NETWORKS, VPC_CIDRS.join(','));
      assert.equal(env.CLOUD_NAT, 'on', 'the fleet runs the cloud 1:1 NAT mode (issue 15)');
      assert.equal(env.COMMAND_NUDGE_PORT, '1717', 'the fleet listens for command nudges on the port its security group opens (issue 18)');
      // Only what is specific to this test host is added: where to listen, the TUN, the state dir,
      // and CLOUD_NAT=off: this host is not behind the VPC's NAT, and the mode would change its
      // network set-up (the e2e suite's cloud-nat scenarios test it in a guest).
      const nudgePort = await freeUdpPort();
      const config = loadAgentConfig(parseArgs([]), {
        ...env,
        CLOUD_NAT: 'off',
        L2TP_LISTEN: `127.0.0.1:${await freePort()}`,
        // The fleet's port may be taken by another test's agent on this shared host.
        COMMAND_NUDGE_PORT: String(nudgePort),
        TUN_NAME: tunName,
        STATE_DIR: join(dir, 'state'),
        VICI_SOCKET: join(dir, 'no-charon.vici'),
        // The default loopback port may be taken by another test's agent on this shared host.
        METRICS_LISTEN: 'off',
      });
      assert.equal(config.capacity, 10_000);
      agent = await launchAgent(config, pino({ level: 'silent' }));
      const listed = await until(async () => {
        const res = await broker.admin<{ items: { agentId: string; registeredAt?: string; capacity: number; publicAddress?: string; networks?: string[]; nudgePort?: number }[] }>('GET', '/v1/agents');
        const me = res.body.items.find((a) => a.agentId === enrolled.body.agentId);
        return me?.registeredAt !== undefined ? me : undefined;
      }, 'the agent registered');
      assert.equal(listed.capacity, 1000, 'GET /v1/agents shows the enrolled capacity, not the agent\'s 10000');
      assert.equal(listed.publicAddress, PUBLIC_IP);
      assert.equal(listed.nudgePort, nudgePort, 'the broker nudges it there');
      for (const cidr of VPC_CIDRS) assert.ok(listed.networks?.includes(cidr), `${cidr} reported: ${JSON.stringify(listed.networks)}`);

      // Finding 2 on a real report: a tenant pool over the agents' VPC is refused with a clear error.
      assert.equal((await broker.admin('POST', '/v1/tenants', { tenantId: 'vpc-t', name: 'V' })).status, 201);
      const inVpc = await broker.admin<{ error: { code: string; message: string; field: string } }>('POST', '/v1/tenants/vpc-t/pools', { poolId: 'p', cidr: '172.31.0.0/16', dns: ['192.0.2.53'] });
      assert.equal(inVpc.status, 409);
      assert.equal(inVpc.body.error.code, 'pool-overlaps-agent-network');
      assert.equal(inVpc.body.error.field, 'cidr');
      assert.match(inVpc.body.error.message, /172\.31\.0\.0\/16/);

      // The attack of finding 8: the same credential re-registers another address and a larger capacity.
      const forged = await fetch(`${broker.url}/v1/agent/register`, {
        method: 'POST',
        headers: { authorization: `Bearer ${enrolled.body.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ publicAddress: '198.18.66.66', capacity: 100_000, version: 'evil' }),
      });
      assert.equal(forged.status, 200);
      const reply = (await forged.json()) as { publicAddress: string; capacity: number };
      assert.deepEqual([reply.publicAddress, reply.capacity], [PUBLIC_IP, 1000]);
      const after = (await broker.admin<{ items: { agentId: string; capacity: number; publicAddress?: string }[] }>('GET', '/v1/agents')).body.items.find(
        (a) => a.agentId === enrolled.body.agentId,
      );
      assert.deepEqual([after?.publicAddress, after?.capacity], [PUBLIC_IP, 1000]);
    } finally {
      await agent?.shutdown().catch(() => {});
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
      try {
        execFileSync('ip', ['link', 'del', tunName], { stdio: 'ignore' });
      } catch {
        // already gone with the TUN fd
      }
    }
  },
);
