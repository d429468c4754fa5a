/**
 * Issue 20: the API function can run in an operator's VPC to reach tenants' RADIUS servers
 * (`-c brokerVpcId=... -c brokerSubnetIds=a,b`). Synthesizes the stack with and without it:
 * only the API function gets VpcConfig (the given subnets, a security group of its own) and the
 * ENI permissions; cdk-nag still passes; bad or half-given context is refused by name.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { createBrokerApp } from '../../../infra/lib/app';
import { settingsFromContext, type ContextKey } from '../../../infra/lib/app-context';
import { VPC_ENI_ACTIONS } from '../../../infra/lib/broker-function';
import type { TunnelBrokerStack } from '../../../infra/lib/tunnel-broker-stack';
import { stubBundles } from '../../support/infra/stub-bundles';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const SUBNETS = ['subnet-0a1b2c3d4e5f60718', 'subnet-0f0e0d0c0b0a09080'];

function synth(context: Record<string, string>): { template: Template; stack: TunnelBrokerStack; outdir: string } {
  const outdir = mkdtempSync(join(tmpdir(), 'tb-vpc-out-'));
  const built = createBrokerApp({ distDir: '/nonexistent', bundles: stubBundles(), outdir, context: { fleet: 'false', ...context } });
  const assembly = built.app.synth();
  return { template: Template.fromJSON(assembly.getStackByName(built.stack.stackName).template), stack: built.stack, outdir };
}

const fn = (t: Template, stack: TunnelBrokerStack, which: 'apiFunction' | 'reaperFunction'): Json =>
  t.toJSON().Resources[stack.getLogicalId(stack[which].function.node.defaultChild as never)];

describe('API function in a VPC (RADIUS reachability)', () => {
  let inVpc: ReturnType<typeof synth>;
  let plain: ReturnType<typeof synth>;
  before(() => {
    inVpc = synth({ brokerVpcId: 'vpc-0123456789abcdef0', brokerSubnetIds: SUBNETS.join(',') });
    plain = synth({});
  });

  test('the API function gets the subnets and its own security group; the reaper stays outside', () => {
    const api = fn(inVpc.template, inVpc.stack, 'apiFunction');
    assert.deepEqual(api.Properties.VpcConfig.SubnetIds, SUBNETS);
    assert.equal(api.Properties.VpcConfig.SecurityGroupIds.length, 1);
    const groups = inVpc.template.findResources('AWS::EC2::SecurityGroup');
    const sg = Object.values(groups).find((g) => (g as Json).Properties.VpcId === 'vpc-0123456789abcdef0') as Json;
    assert.ok(sg, 'a security group in the given VPC');
    assert.deepEqual(sg.Properties.SecurityGroupEgress, [{ CidrIp: '0.0.0.0/0', Description: 'Allow all outbound traffic by default', IpProtocol: '-1' }]);
    assert.equal(fn(inVpc.template, inVpc.stack, 'reaperFunction').Properties.VpcConfig, undefined);
  });

  test('the role can manage the function\'s network interfaces; without a VPC it cannot', () => {
    const statements = (t: Template) =>
      Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) => (p as Json).Properties.PolicyDocument.Statement as Json[]);
    const eni = (t: Template) => statements(t).filter((s) => [s.Action].flat().includes('ec2:CreateNetworkInterface'));
    assert.equal(eni(inVpc.template).length, 1);
    assert.deepEqual([eni(inVpc.template)[0]!.Action].flat(), [...VPC_ENI_ACTIONS]);
    assert.equal(eni(plain.template).length, 0);
    assert.equal(fn(plain.template, plain.stack, 'apiFunction').Properties.VpcConfig, undefined);
  });

  test('cdk-nag passes with the VPC (the ENI wildcard acknowledged with a reason)', () => {
    const report = readFileSync(join(inVpc.outdir, 'validation-report.json'), 'utf8');
    assert.equal(report.includes('"status":"failure"'), false);
  });

  test('context: both keys or neither, each well formed', () => {
    const from = (values: Partial<Record<ContextKey, unknown>>) => () => settingsFromContext((k) => values[k]);
    assert.throws(from({ brokerVpcId: 'vpc-0123456789abcdef0' }), /brokerVpcId and brokerSubnetIds must be given together/);
    assert.throws(from({ brokerSubnetIds: SUBNETS.join(',') }), /must be given together/);
    assert.throws(from({ brokerVpcId: 'my-vpc', brokerSubnetIds: 'subnet-1' }), /brokerVpcId="my-vpc".*\n?.*|subnet-1/s);
    const ok = settingsFromContext((k) => ({ brokerVpcId: 'vpc-0123456789abcdef0', brokerSubnetIds: ` ${SUBNETS[0]} , ${SUBNETS[1]}` } as Record<string, string>)[k]);
    assert.deepEqual(ok.props.brokerVpc, { vpcId: 'vpc-0123456789abcdef0', subnetIds: SUBNETS });
  });
});
