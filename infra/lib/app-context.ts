import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Problems } from './errors';
import { LOG_LEVELS, type LogLevel } from './broker-function';
import type { TunnelBrokerStackProps } from './tunnel-broker-stack';

/** Context keys the app reads (`npx cdk deploy -c key=value`), with what each sets. */
export const CONTEXT_KEYS = {
  stackName: 'stack name (default TunnelBroker)',
  account: 'deploy account; with region, pins the stack env (default env-agnostic)',
  region: 'deploy region (default env-agnostic: the CLI profile decides)',
  deletionProtection: 'true|false, the table (default true)',
  removalPolicy: 'retain|destroy, table and data key (default retain)',
  logLevel: `${LOG_LEVELS.join('|')} (default info)`,
  instanceType: 'agent VM type, e.g. t4g.small (default t4g.small)',
  agentImageParameter: "SSM parameter with the agents' AMI id (default Canonical's Ubuntu 24.04 current)",
  minAgents: 'fleet minimum (default 1)',
  maxAgents: 'fleet maximum (default 4)',
  clientCidr: 'who may reach the VPN ports (default 0.0.0.0/0)',
  drainMinutes: 'scale-in and upgrade drain timeout (default 60)',
  upgradeWarmupMinutes: 'upgrade: minutes a new agent serves before the old ones drain (default 3)',
  fleet: 'false leaves the edge fleet out (default true when the agent bundle exists)',
  alarmTopicArn: 'SNS topic for alarms (default none)',
  throttleRateLimit: 'API requests/s (default 100)',
  throttleBurstLimit: 'API burst (default 200)',
  vpnHostedZoneId: 'Route 53 hosted zone for <tenant>.vpn.<vpnDomain> A records (default none: nothing published)',
  vpnDomain: 'domain of the tenant VPN names, with vpnHostedZoneId (default none)',
  legacyDataKeysSecretArn: 'the DataKeys secret of a deployment from before KMS, to open what it sealed (default none)',
  brokerVpcId: 'VPC for the API function, to reach tenants\' RADIUS servers (with brokerSubnetIds; default none: no VPC)',
  brokerSubnetIds: 'comma-separated subnet ids of brokerVpcId for the API function (routes to DynamoDB/KMS/Secrets Manager and the VPN are the operator\'s)',
} as const;

export type ContextKey = keyof typeof CONTEXT_KEYS;

export interface AppSettings {
  readonly stackName: string;
  readonly props: Omit<TunnelBrokerStackProps, 'bundles'>;
}

/**
 * Turns CDK context values (strings from `-c`, or JSON values from cdk.json) into stack props.
 * Every bad value is reported at once, by key.
 */
export function settingsFromContext(get: (key: ContextKey) => unknown): AppSettings {
  const problems = new Problems();
  const str = (key: ContextKey): string | undefined => {
    const v = get(key);
    return v === undefined || v === null ? undefined : String(v);
  };
  const int = (key: ContextKey): number | undefined => {
    const v = str(key);
    if (v === undefined) return undefined;
    const n = Number(v);
    problems.check(!Number.isInteger(n), `context ${key}="${v}" must be an integer`);
    return n;
  };
  const bool = (key: ContextKey): boolean | undefined => {
    const v = str(key);
    if (v === undefined) return undefined;
    problems.check(v !== 'true' && v !== 'false', `context ${key}="${v}" must be true or false`);
    return v === 'true';
  };

  const stackName = str('stackName') ?? 'TunnelBroker';
  problems.check(!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName), `context stackName="${stackName}" must be a valid CloudFormation stack name`);
  const removal = str('removalPolicy');
  problems.check(removal !== undefined && removal !== 'retain' && removal !== 'destroy', `context removalPolicy="${removal}" must be retain or destroy`);
  const logLevel = str('logLevel');
  problems.check(logLevel !== undefined && !LOG_LEVELS.includes(logLevel as LogLevel), `context logLevel="${logLevel}" must be one of ${LOG_LEVELS.join(', ')}`);
  const instanceType = str('instanceType');
  problems.check(instanceType !== undefined && !/^[a-z0-9-]+\.[a-z0-9]+$/.test(instanceType), `context instanceType="${instanceType}" must look like t4g.small`);
  const account = str('account');
  const region = str('region');
  problems.check((account === undefined) !== (region === undefined), 'context account and region must be given together');
  problems.check(account !== undefined && !/^\d{12}$/.test(account), `context account="${account}" must be 12 digits`);
  const drainMinutes = int('drainMinutes');
  const upgradeWarmupMinutes = int('upgradeWarmupMinutes');
  const fleetEnabled = bool('fleet');
  const brokerVpcId = str('brokerVpcId');
  const brokerSubnetIds = str('brokerSubnetIds')?.split(',').map((s) => s.trim()).filter(Boolean);
  problems.check((brokerVpcId === undefined) !== (brokerSubnetIds === undefined), 'context brokerVpcId and brokerSubnetIds must be given together');
  problems.check(brokerVpcId !== undefined && !/^vpc-[0-9a-f]{8,17}$/.test(brokerVpcId), `context brokerVpcId="${brokerVpcId}" must look like vpc-0123abcd`);
  for (const id of brokerSubnetIds ?? []) problems.check(!/^subnet-[0-9a-f]{8,17}$/.test(id), `context brokerSubnetIds: "${id}" must look like subnet-0123abcd`);
  problems.check(brokerSubnetIds !== undefined && brokerSubnetIds.length === 0, 'context brokerSubnetIds must name at least one subnet');
  const settings: AppSettings = {
    stackName,
    props: {
      env: account && region ? { account, region } : undefined,
      table: {
        deletionProtection: bool('deletionProtection'),
        removalPolicy: removal === 'destroy' ? RemovalPolicy.DESTROY : removal === 'retain' ? RemovalPolicy.RETAIN : undefined,
      },
      logLevel: logLevel as LogLevel | undefined,
      throttleRateLimit: int('throttleRateLimit'),
      throttleBurstLimit: int('throttleBurstLimit'),
      alarmTopicArn: str('alarmTopicArn'),
      vpnHostedZoneId: str('vpnHostedZoneId'),
      vpnDomain: str('vpnDomain'),
      legacyDataKeysSecretArn: str('legacyDataKeysSecretArn'),
      brokerVpc: brokerVpcId && brokerSubnetIds ? { vpcId: brokerVpcId, subnetIds: brokerSubnetIds } : undefined,
      fleet:
        fleetEnabled === false
          ? false
          : {
              instanceType: instanceType ? new ec2.InstanceType(instanceType) : undefined,
              minAgents: int('minAgents'),
              maxAgents: int('maxAgents'),
              clientCidr: str('clientCidr'),
              drainTimeout: drainMinutes === undefined ? undefined : Duration.minutes(drainMinutes),
              imageParameter: str('agentImageParameter'),
              upgradeWarmup: upgradeWarmupMinutes === undefined ? undefined : Duration.minutes(upgradeWarmupMinutes),
            },
    },
  };
  problems.throwIfAny('app context');
  return settings;
}
