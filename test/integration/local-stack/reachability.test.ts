/**
 * What `npm start` runs is reachable from this host only: from a network namespace that reaches
 * the host's other addresses (a stand-in for another host on the network), DynamoDB Local, the
 * broker and the built-in agent's L2TP port cannot be reached, while a port the test opens on every
 * interface can (positive control), and so can an unisolated DynamoDB Local (negative control: the
 * check would catch the old exposure). Root only (namespaces).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { freePort, startDynamoDbLocal, type DynamoDbLocal } from '../../../scripts/lib/dynamodb-local';
import { createNetns, netnsSkipReason, type Netns } from '../../../scripts/lib/netns';
import { sccrq } from '../hostile/flood-tools';
import { FAST, freshNames, removeDataDir, startStackProcess, type StackNames, type StackProcess } from './stack-process';

const skip = netnsSkipReason();

/** Exit 0 when a TCP connection to host:port succeeds within 3 s, 1 otherwise. */
const TCP_PROBE = `
const [host, port] = process.argv.slice(1);
const s = require('net').connect(Number(port), host);
s.setTimeout(3000, () => process.exit(1));
s.on('connect', () => process.exit(0)).on('error', () => process.exit(1));`;

/** Exit 0 when the SCCRQ (hex) sent to host:port gets any answer within 3 s (an LNS answers SCCRP). */
const UDP_PROBE = `
const [host, port, hex] = process.argv.slice(1);
const s = require('dgram').createSocket('udp4');
s.on('message', () => process.exit(0));
s.send(Buffer.from(hex, 'hex'), Number(port), host);
setTimeout(() => process.exit(1), 3000);`;
const SCCRQ = Buffer.from(sccrq(4242)).toString('hex');

describe('npm start: reachable from this host only', { skip: skip ? `skipped: ${skip}` : false }, () => {
  let names: StackNames;
  let stack: StackProcess;
  let outside: Netns;
  before(async () => {
    names = await freshNames();
    stack = await startStackProcess({ names, env: FAST });
    await stack.waitForOutput(/Edge agent\s+agent-\S+ registered/);
    outside = await createNetns('outside');
  });
  after(async () => {
    await outside?.delete();
    await stack?.stop();
    if (names) removeDataDir(names);
  });

  const tcpFromOutside = async (port: number) => (await outside.exec(process.execPath, ['-e', TCP_PROBE, outside.hostAddress, String(port)])).code === 0;
  const udpFromOutside = async (port: number) => (await outside.exec(process.execPath, ['-e', UDP_PROBE, outside.hostAddress, String(port), SCCRQ])).code === 0;

  test('the namespace reaches a port opened on every interface of this host (positive control)', async () => {
    const server = createServer((s) => s.end());
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '0.0.0.0', r));
    try {
      assert.equal(await tcpFromOutside(port), true);
    } finally {
      server.close();
    }
  });

  test('DynamoDB Local, the broker and the agent\'s L2TP port cannot be reached from it', async () => {
    assert.match(stack.output(), new RegExp(`DynamoDB Local\\s+http://127\\.0\\.0\\.1:${names.dynamodbPort}\\b.*reachable from this host only`));
    assert.equal(await tcpFromOutside(names.dynamodbPort), false, 'DynamoDB Local');
    assert.equal(await tcpFromOutside(names.port), false, 'broker API');
    assert.equal(await udpFromOutside(names.l2tpPort), false, 'L2TP');
    // From this host they all answer, to the same probes.
    assert.equal((await fetch(`http://127.0.0.1:${names.dynamodbPort}`).catch(() => undefined)) !== undefined, true);
    assert.equal((await fetch(`${stack.url}/healthz`)).status, 200);
    const local = spawnSync(process.execPath, ['-e', UDP_PROBE, '127.0.0.1', String(names.l2tpPort), SCCRQ]);
    assert.equal(local.status, 0, 'the agent answers the L2TP probe on loopback');
  });

  test('it serves the web console at the address its banner prints (issue 19)', async () => {
    const printed = /Web console\s+(http:\/\/\S+\/console\/)/.exec(stack.output());
    assert.ok(printed, stack.output());
    assert.equal(printed[1], `${stack.url}/console/`);
    const page = await fetch(printed[1]);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.match(await page.text(), /<script type="module" src="\/console\/app\.js">/);
    const script = await fetch(`${stack.url}/console/app.js`);
    assert.equal(script.status, 200);
    assert.ok((await script.text()).length > 1000, 'the bundled console script');
  });

  test('negative control: DynamoDB Local without isolation is reachable from the namespace', async () => {
    let exposed: DynamoDbLocal | undefined;
    try {
      exposed = await startDynamoDbLocal({ isolate: false });
      assert.equal(await tcpFromOutside(exposed.port), true);
    } finally {
      await exposed?.stop();
    }
  });
});
