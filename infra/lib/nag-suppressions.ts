import { CfnResource, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { TunnelBrokerStack } from './tunnel-broker-stack';

/** One accepted cdk-nag (AwsSolutions) finding and why. */
interface Ack {
  readonly id: string;
  readonly reason: string;
}

function ack(scopes: readonly IConstruct[], ...acks: Ack[]): void {
  for (const scope of scopes) Validations.of(scope).acknowledge(...acks);
}

/**
 * cdk-nag findings accepted on purpose, each with its reason, on the construct it concerns (never the
 * whole stack). IAM5 findings are acknowledged one by one (`AwsSolutions-IAM5[<finding>]`), so a new
 * wildcard anywhere still fails the synth.
 */
export function addNagSuppressions(stack: TunnelBrokerStack): void {
  const functions = [
    stack.apiFunction,
    stack.reaperFunction,
    ...(stack.autoscalerFunction ? [stack.autoscalerFunction] : []),
    ...(stack.radiusAccountingFunction ? [stack.radiusAccountingFunction] : []),
  ];
  const tableLogicalId = stack.getLogicalId(stack.table.table.node.defaultChild as CfnResource);
  ack(
    functions,
    { id: 'AwsSolutions-L1', reason: 'nodejs22.x is the runtime the project targets and tests (issue: nodejs22.x, arm64).' },
    {
      id: `AwsSolutions-IAM5[Resource::<${tableLogicalId}.Arn>/index/*]`,
      reason: 'Names the indexes of this one table only (the Store queries every GSI).',
    },
  );
  const inVpc = [stack.apiFunction, ...(stack.radiusAccountingFunction ? [stack.radiusAccountingFunction] : [])].filter((f) => f.function.isBoundToVpc);
  if (inVpc.length > 0) {
    ack(inVpc, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Lambda\'s VPC attachment (ec2:*NetworkInterface*, instead of AWSLambdaVPCAccessExecutionRole): ec2:DescribeNetworkInterfaces and CreateNetworkInterface have no resource-level scope here.',
    });
  }
  if (stack.autoscalerFunction) {
    if (stack.fleet) {
      const groupLogicalId = stack.getLogicalId(stack.fleet.autoScalingGroup.node.defaultChild as CfnResource);
      ack(
        [stack.autoscalerFunction],
        {
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:autoscaling:<AWS::Region>:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/<${groupLogicalId}>]`,
          reason: 'The ARN of this one group: its UUID part is unknown until creation, so it is a wildcard.',
        },
        { id: ssmPathFinding(stack.fleet.tokenParameterPrefix), reason: 'Enrolment writes each agent credential under this fleet\'s own SSM path (one parameter per instance id).' },
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: 'ec2:DescribeInstances only (read-only, this region): it has no resource-level permissions; enrolment reads a new VM\'s public address there.',
        },
      );
    }
  }
  ack([stack.api.api], {
    id: 'AwsSolutions-APIG4',
    reason:
      'Every /v1 route is authenticated by the app itself with bearer tokens (operator API keys, per-agent credentials), as the control-plane design decided; /healthz, /openapi.json and /docs are public by design.',
  });
  ack([stack.adminTokenSecret], {
    id: 'AwsSolutions-SMG4',
    reason: 'No rotation Lambda: the admin token is rotated by an operator (put-secret-value) once scoped keys exist.',
  });
  const fleet = stack.fleet;
  if (fleet) {
    ack([fleet.securityGroup], {
      id: 'AwsSolutions-EC23',
      reason:
        'VPN endpoints must accept IKE/NAT-T/L2TP/ESP from any client address (narrow with -c clientCidr=...), and command nudges from the broker\'s Lambda, which has no fixed address (authenticated datagrams that carry no command).',
    });
    ack([fleet.role], {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      reason: 'Session Manager shells for operators instead of opening SSH.',
    });
    ack([fleet.role], {
      id: ssmPathFinding(fleet.tokenParameterPrefix),
      reason: 'A VM reads its own credential, named by its instance id, under this fleet\'s SSM path; the id is unknown at deploy time.',
    });
    ack([fleet.autoScalingGroup], {
      id: 'AwsSolutions-AS3',
      reason: 'Scaling activity goes to EventBridge (launch and lifecycle events feed the autoscaler); no SNS notification needed.',
    });
  }
}

function ssmPathFinding(prefix: string): string {
  return `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter${prefix}*]`;
}
