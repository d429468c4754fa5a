/**
 * `npm start -- --ipsec`: the stack starts strongSwan's charon and its built-in agent requires
 * IPsec, driving charon over VICI as on a VM: once the fleet PSK is set, the agent's IKEv1
 * connection is loaded into that charon, which listens for IKE. (This host kernel has no ESP, so a
 * whole client session is the real-client suite's job, test/e2e.) Root and strongSwan only.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ipsecUnavailableReason } from '../../../scripts/lib/stack/charon';
import { FAST, freshNames, isAlive, removeDataDir, startStackProcess, type StackNames, type StackProcess } from './stack-process';
import { until } from '../../support/until';

const skip = ipsecUnavailableReason();

describe('npm start -- --ipsec', { skip: skip ? `skipped: ${skip}` : false }, () => {
  let names: StackNames | undefined;
  let stack: StackProcess | undefined;
  after(async () => {
    await stack?.stop();
    if (names) removeDataDir(names);
  });

  test('charon runs, the agent requires IPsec and loads its connection once the PSK is set; both stop with the stack', async () => {
    names = await freshNames();
    stack = await startStackProcess({ names, env: FAST, args: ['--ipsec'] });
    const vici = join(names.dataDir, 'run', 'charon.vici');
    assert.match(stack.output(), new RegExp(`Edge agent\\s+agent-\\S+ registered: .*IPsec required \\(charon at ${vici}\\)`));
    const conns = () => execFileSync('swanctl', ['--list-conns', '--uri', `unix://${vici}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    assert.doesNotMatch(conns(), /l2tp-psk/, 'no connection before the fleet has a PSK');

    const put = await stack.admin('PUT', '/v1/ipsec', { psk: 'a-long-enough-preshared-key-123' });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const loaded = await until('the agent to load its connection into charon', async () => (/l2tp-psk/.test(conns()) ? conns() : undefined), 15_000, 500);
    assert.match(loaded, /IKEv1/);
    assert.match(loaded, /TRANSPORT/);

    const charon = Number(execFileSync('pgrep', ['-f', `^${'/usr/lib/ipsec/charon'}`], { encoding: 'utf8' }).trim().split('\n').find((pid) => stack!.processTree().includes(Number(pid))));
    assert.ok(charon > 0, 'charon is one of the stack\'s processes');
    await stack.stop();
    await until('charon to stop with the stack', async () => (isAlive(charon) ? undefined : true), 5_000, 100);
  });
});
