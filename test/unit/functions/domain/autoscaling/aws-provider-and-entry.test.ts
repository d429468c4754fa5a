import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AwsScalingProvider, ScalingProviderError, type AutoScalingApi } from '../../../../../functions/src/domain/autoscaling';
import { parseAutoscalerConfig } from '../../../../../functions/src/config';

function fakeClient(failures: { terminate?: string; complete?: string } = {}) {
  const calls: Array<[string, unknown]> = [];
  const client: AutoScalingApi = {
    async setDesiredCapacity(input) {
      calls.push(['setDesiredCapacity', input]);
    },
    async terminateInstanceInAutoScalingGroup(input) {
      calls.push(['terminate', input]);
      if (failures.terminate) throw new Error(failures.terminate);
    },
    async completeLifecycleAction(input) {
      calls.push(['complete', input]);
      if (failures.complete) throw new Error(failures.complete);
    },
  };
  return { client, calls };
}

const options = (client: AutoScalingApi) => ({
  client,
  groupName: 'agents',
  lifecycleHookName: 'drain',
  instanceIdOf: async (id: string) => (id === 'agent-1' ? 'i-0123456789abcdef0' : undefined),
});

describe('AwsScalingProvider', () => {
  test('setDesiredCapacity and terminate make the documented calls', async () => {
    const { client, calls } = fakeClient();
    const p = new AwsScalingProvider(options(client));
    await p.setDesiredCapacity(4);
    await p.terminate('agent-1');
    assert.deepEqual(calls, [
      ['setDesiredCapacity', { AutoScalingGroupName: 'agents', DesiredCapacity: 4, HonorCooldown: false }],
      ['terminate', { InstanceId: 'i-0123456789abcdef0', ShouldDecrementDesiredCapacity: true }],
      ['complete', { AutoScalingGroupName: 'agents', LifecycleHookName: 'drain', LifecycleActionResult: 'CONTINUE', InstanceId: 'i-0123456789abcdef0' }],
    ]);
  });

  test('an instance already terminating or without pending hook is not an error; others are', async () => {
    const tolerant = fakeClient({ terminate: 'The instance is already terminating', complete: 'No active Lifecycle Action found' });
    await new AwsScalingProvider(options(tolerant.client)).terminate('agent-1');
    const failing = fakeClient({ terminate: 'AccessDenied' });
    await assert.rejects(new AwsScalingProvider(options(failing.client)).terminate('agent-1'), ScalingProviderError);
    await assert.rejects(new AwsScalingProvider(options(fakeClient().client)).terminate('agent-unknown'), /no EC2 instance/);
  });
});

describe('parseAutoscalerConfig', () => {
  const base = { TABLE_NAME: 'tb-test', AUTOSCALING_GROUP_NAME: 'g', DRAIN_LIFECYCLE_HOOK_NAME: 'h', AGENT_TOKEN_PARAMETER_PREFIX: '/tb/agents/' };
  test('defaults give the default policy in ms', () => {
    const { policy } = parseAutoscalerConfig(base);
    assert.equal(policy.targetUtilization, 0.6);
    assert.equal(policy.scaleInCooldownMs, 600_000);
    assert.equal(policy.drainTimeoutMs, 3_600_000);
  });
  test('names missing keys and inconsistent bands', () => {
    assert.throws(() => parseAutoscalerConfig({ TABLE_NAME: 'tb-test' }), /AUTOSCALING_GROUP_NAME.*DRAIN_LIFECYCLE_HOOK_NAME/);
    assert.throws(() => parseAutoscalerConfig({ ...base, LOWER_BAND: '0.7' }), /lowerBand/);
    assert.throws(() => parseAutoscalerConfig({ ...base, MIN_AGENTS: '5', MAX_AGENTS: '2' }), /maxAgents/);
  });
});
