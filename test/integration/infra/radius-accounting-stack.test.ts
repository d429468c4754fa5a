/**
 * The RADIUS accounting sender in the stack (issue 20): with its bundle built, a scheduled function
 * on the interval of SCHEDULED_JOBS.radiusAccounting that may open sealed secrets (the data key,
 * under the broker's encryption context) but reads no admin token; cdk-nag still passes.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { createBrokerApp } from '../../../infra/lib/app';
import { TABLE_ACTIONS } from '../../../infra/lib/broker-function';
import type { TunnelBrokerStack } from '../../../infra/lib/tunnel-broker-stack';
import { stubBundles } from '../../support/infra/stub-bundles';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
let template: Template;
let stack: TunnelBrokerStack;
let outdir: string;

before(() => {
  outdir = mkdtempSync(join(tmpdir(), 'tb-cdk-acct-'));
  const built = createBrokerApp({ distDir: '/nonexistent', bundles: stubBundles({ radiusAccounting: true, agent: false }), outdir, context: {} });
  stack = built.stack;
  template = Template.fromJSON(built.app.synth().getStackByName(stack.stackName).template);
});

const id = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
const statements = (roleId: string): Json[] =>
  Object.values(template.toJSON().Resources as Record<string, Json>)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as Json[]).some((ref) => ref.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[]);
const actions = (s: Json): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

test('a scheduled function every minute', () => {
  const fn = stack.radiusAccountingFunction;
  assert.ok(fn, 'built when the bundle is present');
  template.hasResourceProperties('AWS::Events::Rule', {
    ScheduleExpression: 'rate(1 minute)',
    Targets: Match.arrayWith([Match.objectLike({ Arn: { 'Fn::GetAtt': [id(fn.function), 'Arn'] } })]),
  });
  const env = (template.toJSON().Resources as Record<string, Json>)[id(fn.function)]!.Properties.Environment.Variables as Json;
  assert.deepEqual(env.DATA_KEY_KMS_KEY_ID, { 'Fn::GetAtt': [id(stack.dataKey), 'Arn'] });
  assert.equal(env.BROKER_ADMIN_TOKEN_SECRET_ARN, undefined, 'serves no request: no admin token');
});

test('least privilege: the table with the Store actions, the data key under its context, no secret', () => {
  const all = statements(id(stack.radiusAccountingFunction!.role));
  const dynamo = all.filter((s) => actions(s).some((a) => a.startsWith('dynamodb:')));
  assert.deepEqual(actions(dynamo[0]!).sort(), [...TABLE_ACTIONS].sort());
  const kms = all.filter((s) => actions(s).some((a) => a.startsWith('kms:')));
  assert.deepEqual(kms.map((s) => s.Condition), [{ StringEquals: { 'kms:EncryptionContext:service': 'tunnel-broker' } }]);
  assert.equal(all.filter((s) => actions(s).includes('secretsmanager:GetSecretValue')).length, 0);
});

test('cdk-nag finds nothing unacknowledged', () => {
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as Json;
  const failures = JSON.stringify(report).match(/"status":"failure"/g) ?? [];
  assert.equal(failures.length, 0, JSON.stringify(report).slice(0, 3000));
});

test('with -c brokerVpcId it runs in the broker VPC like the API function; cdk-nag still passes', () => {
  const out = mkdtempSync(join(tmpdir(), 'tb-cdk-acctvpc-'));
  const built = createBrokerApp({
    distDir: '/nonexistent',
    bundles: stubBundles({ radiusAccounting: true, agent: false }),
    outdir: out,
    context: { brokerVpcId: 'vpc-0123456789abcdef0', brokerSubnetIds: 'subnet-0123456789abcdef0,subnet-0123456789abcdef1' },
  });
  const vpcTemplate = Template.fromJSON(built.app.synth().getStackByName(built.stack.stackName).template);
  const fnId = built.stack.getLogicalId(built.stack.radiusAccountingFunction!.function.node.defaultChild as never);
  const props = (vpcTemplate.toJSON().Resources as Record<string, Json>)[fnId]!.Properties as Json;
  assert.deepEqual(props.VpcConfig.SubnetIds, ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1']);
  const report = JSON.parse(readFileSync(join(out, 'validation-report.json'), 'utf8')) as Json;
  assert.equal(JSON.stringify(report).includes('"status":"failure"'), false);
});

test('without the bundle there is no such function (an optional part)', () => {
  const built = createBrokerApp({ distDir: '/nonexistent', bundles: stubBundles({ agent: false }), outdir: mkdtempSync(join(tmpdir(), 'tb-cdk-acct0-')), context: {} });
  assert.equal(built.stack.radiusAccountingFunction, undefined);
});
