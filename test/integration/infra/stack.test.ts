/**
 * Template assertions on the whole stack (stub bundles, every optional part present), with the
 * AwsSolutions cdk-nag pack run as part of the one synth this file does.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { TABLE_DEFINITION } from '../../../functions/src/store/table-definition';
import { createBrokerApp } from '../../../infra/lib/app';
import { API_ROUTES } from '../../../infra/lib/broker-api';
import { TABLE_ACTIONS } from '../../../infra/lib/broker-function';
import { AUTOSCALER_GROUP_ACTIONS, FLEET_EVENT_DETAIL_TYPES, type TunnelBrokerStack } from '../../../infra/lib/tunnel-broker-stack';
import { FLEET_DETAIL_TYPES } from '../../../functions/src/entry/autoscaler';
import { stubBundles } from '../../support/infra/stub-bundles';

type Json = Record<string, any>;
const ZONE = 'Z0123456789ABCDEFGHIJ';
let template: Template;
let resources: Record<string, Json>;
let stack: TunnelBrokerStack;
let synthError: unknown;
let outdir: string;

before(() => {
  outdir = mkdtempSync(join(tmpdir(), 'tb-cdk-out-'));
  const built = createBrokerApp({ distDir: '/nonexistent', bundles: stubBundles(), outdir, context: { clientCidr: '0.0.0.0/0', vpnHostedZoneId: ZONE, vpnDomain: 'example.net' } });
  stack = built.stack;
  try {
    const assembly = built.app.synth();
    template = Template.fromJSON(assembly.getStackByName(stack.stackName).template);
  } catch (error) {
    synthError = error;
    template = Template.fromStack(stack); // still assert the rest; the nag test reports the failure
  }
  resources = template.toJSON().Resources as Record<string, Json>;
});

function logicalId(construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}

function policiesOfRole(roleLogicalId: string): Json[] {
  return Object.values(resources).filter(
    (r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as Json[]).some((ref) => ref.Ref === roleLogicalId),
  );
}

function statementsOfRole(roleLogicalId: string): Json[] {
  return policiesOfRole(roleLogicalId).flatMap((p) => p.Properties.PolicyDocument.Statement as Json[]);
}

const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

describe('cdk-nag (AwsSolutions)', () => {
  test('synth passes: every finding is fixed or acknowledged with a reason', () => {
    assert.equal(synthError, undefined, `synth failed: ${String(synthError).slice(0, 4000)}`);
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as Json;
    assert.equal(JSON.stringify(report).includes('"status":"failure"'), false);
    // The pack really ran: it copied the acknowledgments into the template (audit trail).
    const fnMeta = resources[logicalId(stack.apiFunction.function)]!.Metadata as Json;
    const ids = (fnMeta.cdk_nag.rules_to_suppress as Json[]).map((r) => r.id as string);
    assert.ok(ids.some((id) => id.includes('AwsSolutions-L1')), `acknowledgments in metadata: ${ids.join(', ')}`);
  });

  test('every acknowledgment carries a reason', () => {
    let count = 0;
    for (const construct of stack.node.findAll()) {
      for (const entry of construct.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules')) {
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
          count++;
          assert.ok(typeof reason === 'string' && reason.length >= 30, `acknowledgment ${id} at ${construct.node.path} needs a real reason`);
        }
      }
    }
    assert.ok(count > 0);
  });
});

describe('table', () => {
  test('keys, indexes and TTL equal TABLE_DEFINITION (the local table definition)', () => {
    const table = template.findResources('AWS::DynamoDB::Table');
    assert.equal(Object.keys(table).length, 1);
    const props = Object.values(table)[0]!.Properties as Json;
    assert.deepEqual(props.KeySchema, [
      { AttributeName: TABLE_DEFINITION.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: TABLE_DEFINITION.sortKey.name, KeyType: 'RANGE' },
    ]);
    const expectedIndexes = TABLE_DEFINITION.globalSecondaryIndexes.map((i) => ({
      IndexName: i.indexName,
      KeySchema: [
        { AttributeName: i.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: i.sortKey.name, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: i.projection },
    }));
    const byName = (a: Json, b: Json) => String(a.IndexName).localeCompare(String(b.IndexName));
    assert.deepEqual([...props.GlobalSecondaryIndexes].sort(byName), [...expectedIndexes].sort(byName));
    const expectedAttrs = new Map<string, string>();
    for (const k of [TABLE_DEFINITION.partitionKey, TABLE_DEFINITION.sortKey, ...TABLE_DEFINITION.globalSecondaryIndexes.flatMap((i) => [i.partitionKey, i.sortKey])]) {
      expectedAttrs.set(k.name, k.type);
    }
    assert.deepEqual(
      new Map((props.AttributeDefinitions as Json[]).map((a) => [a.AttributeName, a.AttributeType])),
      expectedAttrs,
    );
    assert.deepEqual(props.TimeToLiveSpecification, { AttributeName: TABLE_DEFINITION.timeToLiveAttribute, Enabled: true });
  });

  test('on-demand, PITR, deletion protection, retained by default', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });
});

describe('functions', () => {
  test('nodejs22.x on arm64, with log retention, TABLE_NAME from the table', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    assert.equal(functions.length, 3); // api, reaper, autoscaler (stub present)
    for (const fn of functions) {
      assert.equal(fn.Properties.Runtime, 'nodejs22.x');
      assert.deepEqual(fn.Properties.Architectures, ['arm64']);
      assert.deepEqual(fn.Properties.Environment.Variables.TABLE_NAME, { Ref: logicalId(stack.table.table) });
      const logGroup = resources[fn.Properties.LoggingConfig.LogGroup.Ref as string]!;
      assert.equal(logGroup.Properties.RetentionInDays, 30);
    }
  });

  test('the admin token reaches the API function as a secret ARN; data keys come from a customer-managed KMS key', () => {
    const env = resources[logicalId(stack.apiFunction.function)]!.Properties.Environment.Variables as Json;
    assert.deepEqual(env.BROKER_ADMIN_TOKEN_SECRET_ARN, { Ref: logicalId(stack.adminTokenSecret) });
    assert.deepEqual(env.DATA_KEY_KMS_KEY_ID, { 'Fn::GetAtt': [logicalId(stack.dataKey), 'Arn'] });
    assert.equal(env.DATA_KEYS_SECRET_ARN, undefined, 'no Secrets Manager data key any more (issue 14 #6)');
    assert.equal(env.BROKER_ADMIN_TOKEN, undefined);
    assert.equal(env.DATA_KEYS, undefined);
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    const key = resources[logicalId(stack.dataKey)]!;
    assert.equal(key.Type, 'AWS::KMS::Key');
    assert.equal(key.Properties.EnableKeyRotation, true);
    assert.equal(key.DeletionPolicy, 'Retain');
  });

  test('only the API function may use the KMS key: GenerateDataKey and Decrypt, under the broker\'s encryption context', () => {
    const keyArn = { 'Fn::GetAtt': [logicalId(stack.dataKey), 'Arn'] };
    for (const fn of [stack.apiFunction, stack.reaperFunction, stack.autoscalerFunction!]) {
      const kmsStatements = statementsOfRole(logicalId(fn.role)).filter((s) => asArray(s.Action as string | string[]).some((a) => a.startsWith('kms:')));
      if (fn !== stack.apiFunction) {
        assert.equal(kmsStatements.length, 0, fn.node.path);
        continue;
      }
      assert.equal(kmsStatements.length, 1);
      assert.deepEqual(asArray(kmsStatements[0]!.Action).sort(), ['kms:Decrypt', 'kms:GenerateDataKey']);
      assert.deepEqual(kmsStatements[0]!.Resource, keyArn);
      assert.deepEqual(kmsStatements[0]!.Condition, { StringEquals: { 'kms:EncryptionContext:service': 'tunnel-broker' } });
    }
  });

  test('each function can touch only this table and its indexes, only with the Store actions', () => {
    const tableArn = { 'Fn::GetAtt': [logicalId(stack.table.table), 'Arn'] };
    const expectedResources = [tableArn, { 'Fn::Join': ['', [tableArn, '/index/*']] }];
    const fns = [stack.apiFunction, stack.reaperFunction, stack.autoscalerFunction!];
    for (const fn of fns) {
      const statements = statementsOfRole(logicalId(fn.role));
      const dynamo = statements.filter((s) => asArray(s.Action as string | string[]).some((a) => a.startsWith('dynamodb:')));
      assert.equal(dynamo.length, 1, `${fn.node.path}: one DynamoDB statement`);
      assert.deepEqual(asArray(dynamo[0]!.Action).sort(), [...TABLE_ACTIONS].sort());
      assert.deepEqual(dynamo[0]!.Resource, expectedResources);
      assert.ok(!asArray(dynamo[0]!.Action).includes('dynamodb:Scan'));
      for (const s of statements) {
        assert.ok(!asArray(s.Action as string | string[]).some((a) => a === '*' || a.endsWith(':*')), `${fn.node.path}: no service-wide action`);
      }
      // Logs: only its own log group.
      const logs = statements.filter((s) => asArray(s.Action as string[]).some((a) => a.startsWith('logs:')));
      assert.deepEqual(logs.map((s) => s.Resource), [{ 'Fn::GetAtt': [logicalId(fn.logGroup), 'Arn'] }]);
      // No managed policies (AWSLambdaBasicExecutionRole could write any log group).
      assert.equal(resources[logicalId(fn.role)]!.Properties.ManagedPolicyArns, undefined);
    }
    // Only the API function reads secrets; the reaper and autoscaler read none.
    const secretReaders = (fn: (typeof fns)[number]) =>
      statementsOfRole(logicalId(fn.role)).filter((s) => asArray(s.Action as string[]).includes('secretsmanager:GetSecretValue'));
    assert.deepEqual(
      secretReaders(stack.apiFunction).map((s) => s.Resource).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      [{ Ref: logicalId(stack.adminTokenSecret) }],
    );
    assert.equal(secretReaders(stack.reaperFunction).length, 0);
    assert.equal(secretReaders(stack.autoscalerFunction!).length, 0);
  });

  test('reaper and autoscaler run on EventBridge schedules', () => {
    for (const fn of [stack.reaperFunction, stack.autoscalerFunction!]) {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 minute)',
        Targets: Match.arrayWith([Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(fn.function), 'Arn'] } })]),
      });
    }
  });
});

describe('HTTP API', () => {
  test('the operator and agent routes exist and reach the API function', () => {
    const routeKeys = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey as string);
    assert.deepEqual(routeKeys.sort(), API_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    assert.ok(routeKeys.includes('ANY /v1/{proxy+}'));
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': [logicalId(stack.apiFunction.function), 'Arn'] },
    });
  });

  test('stage throttles and writes JSON access logs', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [logicalId(stack.api.accessLogs), 'Arn'] },
        Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
      },
    });
  });
});

describe('edge fleet', () => {
  // ESP (IP protocol 50) must stay open: clients without a NAT send raw ESP, which the cloud NAT
  // mode DNATs like IKE (e2e scenario cloud-nat-esp).
  test('security group opens exactly UDP 500, 4500, 1701, ESP and the command-nudge port (1717)', () => {
    const groups = Object.values(template.findResources('AWS::EC2::SecurityGroup'));
    assert.equal(groups.length, 1);
    const ingress = (groups[0]!.Properties.SecurityGroupIngress as Json[])
      .map((r) => `${r.IpProtocol}/${r.FromPort ?? '-'}/${r.CidrIp}`)
      .sort();
    assert.deepEqual(ingress, ['50/-/0.0.0.0/0', 'udp/1701/0.0.0.0/0', 'udp/1717/0.0.0.0/0', 'udp/4500/0.0.0.0/0', 'udp/500/0.0.0.0/0']);
    for (const r of groups[0]!.Properties.SecurityGroupIngress as Json[]) {
      if (r.IpProtocol === 'udp') assert.equal(r.FromPort, r.ToPort, 'single ports, no ranges');
    }
    assert.equal(Object.keys(template.findResources('AWS::EC2::SecurityGroupIngress')).length, 0);
  });

  test('launch template: public IP, IMDSv2, encrypted disk, user data without the credential', () => {
    const lt = Object.values(template.findResources('AWS::EC2::LaunchTemplate'))[0]!.Properties.LaunchTemplateData as Json;
    assert.equal(lt.NetworkInterfaces[0].AssociatePublicIpAddress, true);
    assert.equal(lt.MetadataOptions.HttpTokens, 'required');
    assert.equal(lt.BlockDeviceMappings[0].Ebs.Encrypted, true);
    const userData = JSON.stringify(lt.UserData);
    // CLOUD_NAT=on with PUBLIC_ADDRESS from IMDS: Windows clients see no NAT on our side (issue 15).
    // COMMAND_NUDGE_PORT: the port the security group opens for the broker's nudges (issue 18).
    for (const needle of ['strongswan-swanctl', 'edge-agent.service', 'Restart=always', 'ssm get-parameter', '--with-decryption', 'CLOUD_NAT=on', 'PUBLIC_ADDRESS=$PUBLIC_IP', 'imds public-ipv4', 'COMMAND_NUDGE_PORT=1717']) {
      assert.ok(userData.includes(needle), `user data mentions ${needle}`);
    }
    assert.ok(!/AGENT_TOKEN=tba_/.test(userData));
  });

  test('instance role reads only its credential path and the agent bundle object', () => {
    const role = logicalId(stack.fleet!.role);
    const statements = statementsOfRole(role);
    const actions = statements.flatMap((s) => asArray(s.Action as string | string[])).sort();
    assert.deepEqual(actions, ['s3:GetObject', 'ssm:GetParameter']);
    const ssm = statements.find((s) => s.Action === 'ssm:GetParameter')!;
    assert.match(JSON.stringify(ssm.Resource), /parameter\/tunnel-broker\/TunnelBroker\/agents\/\*/);
  });

  test('scale-in waits for a drain: termination lifecycle hook, routed to the autoscaler', () => {
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      HeartbeatTimeout: 3600,
      DefaultResult: 'CONTINUE',
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ source: ['aws.autoscaling'], 'detail-type': Match.arrayWith(['EC2 Instance-terminate Lifecycle Action']) }),
    });
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '1', MaxSize: '4' });
  });

  test('rolling upgrade: an instance refresh that launches every replacement before any old VM drains through the Drain hook', () => {
    const group = resources[logicalId(stack.fleet!.autoScalingGroup)]!;
    assert.deepEqual(group.UpdatePolicy, {
      AutoScalingInstanceRefresh: {
        Strategy: 'Rolling',
        Preferences: { MinHealthyPercentage: 100, MaxHealthyPercentage: 200, InstanceWarmup: 180, SkipMatching: true },
      },
      // CDK's default, kept: a deploy leaves the size the autoscaler set alone.
      AutoScalingScheduledAction: { IgnoreUnmodifiedGroupSizeProperties: true },
    });
    // The old VMs leave through the same terminate hook as a scale-in, and the broker's drain deadline
    // (the autoscaler's DRAIN_TIMEOUT_SECONDS) is the hook's timeout: the VM never goes before it.
    const hook = Object.values(template.findResources('AWS::AutoScaling::LifecycleHook')).find((h) => h.Properties.LifecycleTransition === 'autoscaling:EC2_INSTANCE_TERMINATING')!;
    const env = resources[logicalId(stack.autoscalerFunction!.function)]!.Properties.Environment.Variables as Json;
    assert.equal(env.DRAIN_TIMEOUT_SECONDS, String(hook.Properties.HeartbeatTimeout));
    assert.equal(env.DRAIN_LIFECYCLE_HOOK_NAME.Ref, stack.getLogicalId(stack.fleet!.drainHook.node.defaultChild as never));
    // The autoscaler's bounds are the group's, so it never asks for a size the group refuses.
    assert.deepEqual([env.MIN_AGENTS, env.MAX_AGENTS], [group.Properties.MinSize, group.Properties.MaxSize]);
  });

  test('new VMs wait for enrolment: launch lifecycle hook (ABANDON on timeout); every fleet event the autoscaler handles is routed to it', () => {
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
      HeartbeatTimeout: 600,
      DefaultResult: 'ABANDON',
    });
    assert.deepEqual([...FLEET_EVENT_DETAIL_TYPES].sort(), [...FLEET_DETAIL_TYPES].sort(), 'infra rule and the handler agree');
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.autoscaling'],
        'detail-type': [...FLEET_EVENT_DETAIL_TYPES],
        detail: { AutoScalingGroupName: [{ Ref: logicalId(stack.fleet!.autoScalingGroup) }] },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(stack.autoscalerFunction!.function), 'Arn'] } })],
    });
  });

  test('autoscaler role: Auto Scaling calls on this group only, SSM writes under the fleet path, no wildcard resource but DescribeInstances', () => {
    const statements = statementsOfRole(logicalId(stack.autoscalerFunction!.role));
    const scaling = statements.filter((s) => asArray(s.Action as string | string[]).some((a) => a.startsWith('autoscaling:')));
    assert.equal(scaling.length, 1);
    assert.deepEqual(asArray(scaling[0]!.Action).sort(), [...AUTOSCALER_GROUP_ACTIONS].sort());
    assert.ok(asArray(scaling[0]!.Action).includes('autoscaling:TerminateInstanceInAutoScalingGroup'));
    const groupArn = JSON.stringify(scaling[0]!.Resource);
    assert.match(groupArn, /autoScalingGroupName\//);
    assert.ok(groupArn.includes(logicalId(stack.fleet!.autoScalingGroup)), groupArn);
    const ssm = statements.filter((s) => asArray(s.Action as string | string[]).some((a) => a.startsWith('ssm:')));
    assert.deepEqual(ssm.flatMap((s) => asArray(s.Action)).sort(), ['ssm:DeleteParameter', 'ssm:PutParameter']);
    assert.match(JSON.stringify(ssm[0]!.Resource), /parameter\/tunnel-broker\/TunnelBroker\/agents\/\*/);
    // Enrolment pins the VM's public address (issue 14, finding 8): DescribeInstances has no
    // resource-level permissions, so it is the one "*" statement, read-only and region-bound.
    const wildcard = statements.filter((s) => s.Resource === '*');
    assert.deepEqual(wildcard.map((s) => s.Action), ['ec2:DescribeInstances']);
    assert.deepEqual(Object.keys((wildcard[0]!.Condition as Json).StringEquals as Json), ['aws:RequestedRegion']);
    const env = resources[logicalId(stack.autoscalerFunction!.function)]!.Properties.Environment.Variables as Json;
    for (const key of ['AUTOSCALING_GROUP_NAME', 'DRAIN_LIFECYCLE_HOOK_NAME', 'AGENT_TOKEN_PARAMETER_PREFIX', 'AGENT_REGION']) assert.ok(env[key], key);
  });

  test('Route 53: UPSERT of A records named *.vpn.<domain> in the configured zone only; API and autoscaler know the domain', () => {
    const statements = statementsOfRole(logicalId(stack.autoscalerFunction!.role));
    const r53 = statements.filter((s) => asArray(s.Action as string | string[]).some((a) => a.startsWith('route53:')));
    assert.equal(r53.length, 1);
    assert.equal(r53[0]!.Action, 'route53:ChangeResourceRecordSets');
    assert.deepEqual(r53[0]!.Resource, { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:route53:::hostedzone/${ZONE}`]] });
    assert.deepEqual(r53[0]!.Condition, {
      'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['*.vpn.example.net'] },
      'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsRecordTypes': ['A'], 'route53:ChangeResourceRecordSetsActions': ['UPSERT'] },
    });
    const envOf = (fn: { function: unknown }) => resources[logicalId(fn.function as never)]!.Properties.Environment.Variables as Json;
    assert.equal(envOf(stack.autoscalerFunction!).VPN_HOSTED_ZONE_ID, ZONE);
    assert.equal(envOf(stack.autoscalerFunction!).VPN_DNS_DOMAIN, 'example.net');
    assert.equal(envOf(stack.apiFunction).VPN_DNS_DOMAIN, 'example.net');
  });

  test('alarms watch the fleet metrics the autoscaler publishes', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'TunnelBroker', MetricName: 'FleetUtilization' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'TunnelBroker',
      MetricName: 'HealthyAgents',
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });
});

describe('outputs', () => {
  test('API URL, table name and the first-admin-key recipe', () => {
    const outputs = template.toJSON().Outputs as Json;
    for (const name of ['ApiUrl', 'TableName', 'AdminTokenSecretArn', 'FirstAdminKey']) assert.ok(outputs[name], name);
    assert.match(JSON.stringify(outputs.FirstAdminKey.Value), /secretsmanager get-secret-value/);
    assert.match(JSON.stringify(outputs.FirstAdminKey.Value), /v1\/api-keys/);
  });
});

describe('legacy data key', () => {
  test('legacyDataKeysSecretArn: the API function may read that secret, to open what it sealed', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:DataKeys-AbCdEf';
    const built = createBrokerApp({ distDir: '/nonexistent', bundles: stubBundles(), outdir: mkdtempSync(join(tmpdir(), 'tb-cdk-out-')), context: { legacyDataKeysSecretArn: arn } });
    const t = Template.fromStack(built.stack);
    const fn = t.toJSON().Resources[built.stack.getLogicalId(built.stack.apiFunction.function.node.defaultChild as never)] as Json;
    assert.equal(fn.Properties.Environment.Variables.DATA_KEYS_SECRET_ARN, arn);
    t.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'secretsmanager:GetSecretValue', Resource: arn })]) } });
  });
});
