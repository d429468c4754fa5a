import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LocalScalingProvider, ScalingProviderError, type LocalAgentLauncher, type LocalAgentProcess } from '../../../../../functions/src/domain/autoscaling';

class FakeLauncher implements LocalAgentLauncher {
  readonly started: string[] = [];
  readonly stopped: string[] = [];
  failNames = new Set<string>();
  inFlight = 0;
  maxInFlight = 0;
  async launch(name: string): Promise<LocalAgentProcess> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, 5));
    this.inFlight--;
    if (this.failNames.has(name)) throw new Error(`boom ${name}`);
    this.started.push(name);
    return { agentId: `id-${name}`, address: `10.0.0.${this.started.length}`, stop: async () => void this.stopped.push(name) };
  }
}

describe('LocalScalingProvider', () => {
  test('grows to the desired count, launching the missing agents together; never shrinks on a lower desired', async () => {
    const launcher = new FakeLauncher();
    const p = new LocalScalingProvider({ launcher, namePrefix: 'a' });
    await p.setDesiredCapacity(3);
    assert.deepEqual(launcher.started, ['a-1', 'a-2', 'a-3']);
    assert.equal(launcher.maxInFlight, 3);
    await p.setDesiredCapacity(3); // idempotent
    await p.setDesiredCapacity(4);
    assert.equal(p.agents().length, 4);
    await p.setDesiredCapacity(1);
    assert.equal(p.agents().length, 4, 'agents leave through terminate only');
    assert.deepEqual(launcher.stopped, []);
  });

  test('concurrent calls are serialized (no overshoot)', async () => {
    const launcher = new FakeLauncher();
    const p = new LocalScalingProvider({ launcher });
    await Promise.all([p.setDesiredCapacity(2), p.setDesiredCapacity(2), p.setDesiredCapacity(3)]);
    assert.equal(launcher.started.length, 3);
  });

  test('terminate stops that agent once; repeating it is fine; an unknown agent is an error', async () => {
    const launcher = new FakeLauncher();
    const p = new LocalScalingProvider({ launcher, namePrefix: 'a' });
    await p.setDesiredCapacity(2);
    await p.terminate('id-a-1');
    await p.terminate('id-a-1');
    assert.deepEqual(launcher.stopped, ['a-1']);
    assert.deepEqual(p.agents().map((a) => a.agentId), ['id-a-2']);
    await assert.rejects(p.terminate('id-nobody'), (e: unknown) => e instanceof ScalingProviderError && e.agentId === 'id-nobody');
    await p.close();
    assert.deepEqual(launcher.stopped, ['a-1', 'a-2']);
  });

  test('a failed launch is a ScalingProviderError; the agents that did start are kept; hard limit caps growth', async () => {
    const launcher = new FakeLauncher();
    launcher.failNames.add('a-2');
    const p = new LocalScalingProvider({ launcher, namePrefix: 'a', hardLimit: 4 });
    await assert.rejects(p.setDesiredCapacity(3), (e: unknown) => e instanceof ScalingProviderError && /1 of 3 agent launches failed; the first: boom a-2/.test(e.message));
    assert.equal(p.agents().length, 2);
    await p.setDesiredCapacity(3);
    assert.equal(p.agents().length, 3);
    await p.setDesiredCapacity(10);
    assert.equal(p.agents().length, 4);
    await assert.rejects(p.setDesiredCapacity(-1), ScalingProviderError);
  });
});
