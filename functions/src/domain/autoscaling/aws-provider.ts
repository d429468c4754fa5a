/**
 * ScalingProvider over EC2 Auto Scaling. The Auto Scaling client is injected as the small
 * structural interface below (the method names and inputs of the aggregated `AutoScaling` client
 * of @aws-sdk/client-auto-scaling), so this file imports no SDK and is testable with a fake.
 *
 * Terminating: TerminateInstanceInAutoScalingGroup with ShouldDecrementDesiredCapacity, so the
 * group does not launch a replacement. The group's terminate lifecycle hook then holds the VM in
 * Terminating:Wait; as the agent is already drained, the hook is completed at once (CONTINUE).
 * If the group itself started the termination (the instance is already terminating), completing
 * the lifecycle action is all that is left to do.
 */
import { ScalingProviderError, type ScalingProvider } from './provider';

/** The subset of @aws-sdk/client-auto-scaling's `AutoScaling` client this provider uses. */
export interface AutoScalingApi {
  setDesiredCapacity(input: { AutoScalingGroupName: string; DesiredCapacity: number; HonorCooldown?: boolean }): Promise<unknown>;
  terminateInstanceInAutoScalingGroup(input: { InstanceId: string; ShouldDecrementDesiredCapacity: boolean }): Promise<unknown>;
  completeLifecycleAction(input: {
    AutoScalingGroupName: string;
    LifecycleHookName: string;
    LifecycleActionResult: 'CONTINUE' | 'ABANDON';
    InstanceId: string;
    LifecycleActionToken?: string;
  }): Promise<unknown>;
}

export interface AwsScalingProviderOptions {
  readonly client: AutoScalingApi;
  readonly groupName: string;
  readonly lifecycleHookName: string;
  /** The EC2 instance an agent runs on (undefined = unknown, which is an error on terminate). */
  readonly instanceIdOf: (agentId: string) => Promise<string | undefined>;
}

export class AwsScalingProvider implements ScalingProvider {
  constructor(private readonly options: AwsScalingProviderOptions) {}

  async setDesiredCapacity(desired: number): Promise<void> {
    try {
      // HonorCooldown false: the broker's policy has its own cooldowns.
      await this.options.client.setDesiredCapacity({ AutoScalingGroupName: this.options.groupName, DesiredCapacity: desired, HonorCooldown: false });
    } catch (error) {
      throw new ScalingProviderError(`SetDesiredCapacity(${desired}) failed`, undefined, { cause: error });
    }
  }

  async terminate(agentId: string): Promise<void> {
    const instanceId = await this.options.instanceIdOf(agentId);
    if (instanceId === undefined) throw new ScalingProviderError(`no EC2 instance known for agent ${agentId}`, agentId);
    try {
      await this.options.client.terminateInstanceInAutoScalingGroup({ InstanceId: instanceId, ShouldDecrementDesiredCapacity: true });
    } catch (error) {
      if (!alreadyTerminating(error)) throw new ScalingProviderError(`terminating ${instanceId} failed`, agentId, { cause: error });
    }
    try {
      await this.options.client.completeLifecycleAction({
        AutoScalingGroupName: this.options.groupName,
        LifecycleHookName: this.options.lifecycleHookName,
        LifecycleActionResult: 'CONTINUE',
        InstanceId: instanceId,
      });
    } catch (error) {
      // No pending action yet (the hook's event may not have fired) is fine: the hook times out
      // with CONTINUE (infra/lib/edge-fleet.ts), so the VM goes regardless.
      if (!noPendingLifecycleAction(error)) throw new ScalingProviderError(`completing lifecycle of ${instanceId} failed`, agentId, { cause: error });
    }
  }
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

function alreadyTerminating(error: unknown): boolean {
  return /terminat(ing|ed)|not in (the )?InService/i.test(messageOf(error));
}

function noPendingLifecycleAction(error: unknown): boolean {
  return /no active lifecycle action|lifecycle action .*not found/i.test(messageOf(error));
}
