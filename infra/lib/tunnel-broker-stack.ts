import { Annotations, CfnOutput, Duration, Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { BrokerAlarms } from './broker-alarms';
import { BrokerApi } from './broker-api';
import { BrokerFunction, type LogLevel } from './broker-function';
import { BrokerTable, type BrokerTableProps } from './broker-table';
import { DEFAULT_UPGRADE_WARMUP, EdgeFleet, type EdgeFleetProps } from './edge-fleet';
import { Problems } from './errors';
import { FLEET_METRICS } from '../../contract/src/fleet-metrics';
import { SCHEDULED_JOBS } from '../../functions/src/entry/schedules';
import { DEFAULT_SCALING_POLICY } from '../../functions/src/domain/autoscaling/policy';

/** Folders of the esbuild output (scripts/build-bundles.ts). Optional ones are wired only when present. */
export interface BrokerBundles {
  /** functions/src/entry/lambda.ts: the whole Hono app. */
  readonly api: string;
  /** functions/src/entry/reaper.ts. */
  readonly reaper: string;
  /** functions/src/entry/autoscaler.ts. @default - no autoscaler function, schedule or lifecycle rule */
  readonly autoscaler?: string;
  /** functions/src/entry/radius-accounting.ts. @default - no RADIUS accounting sender (records wait in the outbox) */
  readonly radiusAccounting?: string;
  /** edge-agent/src/cli.ts. @default - no edge fleet */
  readonly agent?: string;
}

export interface TunnelBrokerStackProps extends StackProps {
  readonly bundles: BrokerBundles;
  /** Table options (deletion protection, removal policy, PITR, name). @default BrokerTable defaults */
  readonly table?: Omit<BrokerTableProps, 'definition'>;
  /** @default 'info' */
  readonly logLevel?: LogLevel;
  /** Retention of every log group (functions, API access logs, flow logs). @default ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default 100 */
  readonly throttleRateLimit?: number;
  /** @default 200 */
  readonly throttleBurstLimit?: number;
  /** Caps the API function's concurrency (protects the table and the bill). @default - account pool */
  readonly apiReservedConcurrency?: number;
  /** How often the reaper ends sessions of dead agents and frees expired leases. @default 1 minute (SCHEDULED_JOBS.reaper, shared with `npm start`) */
  readonly reaperInterval?: Duration;
  /** How often the autoscaling decision runs. @default 1 minute (SCHEDULED_JOBS.autoscaler, shared with `npm start`) */
  readonly autoscalerInterval?: Duration;
  /** Edge fleet options; `false` leaves the fleet out even when the agent bundle exists. @default {} */
  readonly fleet?: Omit<EdgeFleetProps, 'agentBundleDir' | 'brokerUrl' | 'flowLogRetention'> | false;
  /** @default - alarms without actions */
  readonly alarmTopicArn?: string;
  /**
   * Route 53 hosted zone in which the autoscaler publishes each tenant's A record
   * `<tenant>.vpn.<vpnDomain>` (placement's chosen agents). Give it with `vpnDomain`; the zone
   * must be authoritative for `vpnDomain` (or for `vpn.<vpnDomain>`).
   * @default - no DNS records are published (clients use GET /v1/tenants/{id}/endpoint)
   */
  readonly vpnHostedZoneId?: string;
  /** Domain of the tenant names, e.g. example.com gives acme.vpn.example.com. @default - none */
  readonly vpnDomain?: string;
  /**
   * ARN of the Secrets Manager secret that held the data key before KMS (`DataKeys` of an older
   * version of this stack, kept by its RETAIN policy). Its keys then still open the CHAP secrets
   * and PSK they sealed; everything new is sealed under the KMS data key, and user credentials are
   * re-sealed at their next login. @default - no legacy key
   */
  readonly legacyDataKeysSecretArn?: string;
  /**
   * Puts the API function (the one that talks RADIUS) into these existing subnets of an existing
   * VPC, so it reaches tenants' RADIUS servers over the operator's VPN, Direct Connect, peering or
   * Transit Gateway (docs/radius.md). The subnets need a route to DynamoDB, KMS and Secrets Manager
   * (a NAT gateway, or VPC endpoints): the operator's part, like the VPN.
   * @default - no VPC
   */
  readonly brokerVpc?: { readonly vpcId: string; readonly subnetIds: readonly string[] };
}

/** Auto Scaling events the autoscaler handles (functions/src/entry/autoscaler.ts, FLEET_DETAIL_TYPES). */
export const FLEET_EVENT_DETAIL_TYPES: readonly string[] = [
  'EC2 Instance-launch Lifecycle Action',
  'EC2 Instance-terminate Lifecycle Action',
  // VMs launched before the launch hook resource existed (first deploy) are enrolled on this one.
  'EC2 Instance Launch Successful',
];

/** The Auto Scaling API calls the autoscaler makes, all on the fleet's group (resource-level). */
export const AUTOSCALER_GROUP_ACTIONS: readonly string[] = [
  'autoscaling:SetDesiredCapacity',
  'autoscaling:TerminateInstanceInAutoScalingGroup',
  'autoscaling:CompleteLifecycleAction',
];

/**
 * The whole product in one stack: table, secrets, broker functions, HTTP API, schedules, edge fleet
 * and alarms. Env-agnostic unless `env` is given, so it synthesizes offline with no credentials.
 */
export class TunnelBrokerStack extends Stack {
  readonly table: BrokerTable;
  readonly adminTokenSecret: secretsmanager.Secret;
  /** Customer-managed key that wraps the broker's data keys (envelope encryption, yearly rotation). */
  readonly dataKey: kms.Key;
  readonly legacyDataKeysSecret?: secretsmanager.ISecret;
  readonly apiFunction: BrokerFunction;
  readonly reaperFunction: BrokerFunction;
  /** Present when the RADIUS accounting bundle was built. */
  readonly radiusAccountingFunction?: BrokerFunction;
  readonly autoscalerFunction?: BrokerFunction;
  readonly api: BrokerApi;
  readonly fleet?: EdgeFleet;
  readonly alarms: BrokerAlarms;
  /** Domain of the published tenant names, when DNS publishing is configured. */
  readonly vpnDomain?: string;

  constructor(scope: Construct, id: string, props: TunnelBrokerStackProps) {
    super(scope, id, props);
    const problems = new Problems();
    for (const [name, interval] of [['reaperInterval', props.reaperInterval], ['autoscalerInterval', props.autoscalerInterval]] as const) {
      const minutes = interval?.toMinutes({ integral: false });
      problems.check(minutes !== undefined && !(Number.isInteger(minutes) && minutes >= 1), `${name} must be a whole number of minutes >= 1 (EventBridge rate)`);
    }
    problems.check(
      (props.vpnHostedZoneId === undefined) !== (props.vpnDomain === undefined),
      'vpnHostedZoneId and vpnDomain must be given together',
    );
    problems.check(
      props.vpnHostedZoneId !== undefined && !/^Z[A-Z0-9]{1,31}$/.test(props.vpnHostedZoneId),
      `vpnHostedZoneId "${props.vpnHostedZoneId}" must be a hosted zone id such as Z0123456789ABCDEFGHIJ`,
    );
    problems.check(
      props.vpnDomain !== undefined && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(props.vpnDomain),
      `vpnDomain "${props.vpnDomain}" must be a lower-case DNS domain such as example.com`,
    );
    if (props.fleet !== false) {
      // During an upgrade the new agents serve next to the old ones until the warmup ends: twice the
      // capacity, half the utilization. Were that to last the scale-in streak, the autoscaler would
      // drain the emptiest agents, which are the new ones (docs/deploy.md, "Upgrading agents").
      const intervalS = (props.autoscalerInterval ?? Duration.millis(SCHEDULED_JOBS.autoscaler.intervalMs)).toSeconds();
      const streakS = DEFAULT_SCALING_POLICY.scaleInAfterEvaluations * intervalS;
      const warmupS = (props.fleet?.upgradeWarmup ?? DEFAULT_UPGRADE_WARMUP).toSeconds();
      problems.check(
        warmupS + intervalS >= streakS,
        `fleet.upgradeWarmup ${warmupS}s plus one autoscaler interval must stay below the scale-in streak (${DEFAULT_SCALING_POLICY.scaleInAfterEvaluations} x ${intervalS}s)`,
      );
    }
    problems.throwIfAny(`TunnelBrokerStack ${id}`);
    if (props.vpnHostedZoneId && props.vpnDomain) this.vpnDomain = props.vpnDomain;

    const logRetention = props.logRetention;
    const keep = props.table?.removalPolicy ?? RemovalPolicy.RETAIN;
    this.table = new BrokerTable(this, 'Table', props.table);

    // The fleet admin token (bootstraps the first API key): generated by Secrets Manager, never in the
    // template or env in clear.
    this.adminTokenSecret = new secretsmanager.Secret(this, 'AdminToken', {
      description: 'tunnel-broker fleet admin bearer token (use it once to create scoped API keys)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    // The key that wraps the data keys sealing NT hashes, CHAP secrets and the IPsec PSK: KMS makes
    // each data key (GenerateDataKey) and the table keeps it only wrapped (functions/src/entry/
    // kms-data-keys.ts). Losing this key loses those secrets, hence RETAIN with the table.
    this.dataKey = new kms.Key(this, 'DataKey', {
      description: 'tunnel-broker: wraps the data keys that seal user credentials and the IPsec PSK',
      enableKeyRotation: true,
      removalPolicy: keep,
    });
    if (props.legacyDataKeysSecretArn) {
      this.legacyDataKeysSecret = secretsmanager.Secret.fromSecretCompleteArn(this, 'LegacyDataKeys', props.legacyDataKeysSecretArn);
    }

    const common = { table: this.table, logLevel: props.logLevel, logRetention };
    const brokerVpc = props.brokerVpc ? this.importBrokerVpc(props.brokerVpc) : undefined;
    // One function for every route, not one per API area: the app is a single Hono router with shared
    // middleware (auth, validation, errors), so splitting would deploy the same bundle N times, multiply
    // cold starts (agents heartbeat every few seconds and keep the one function warm for operators too)
    // and give every copy the same table permissions anyway: no least-privilege gain.
    this.apiFunction = new BrokerFunction(this, 'ApiFunction', {
      ...common,
      bundleDir: props.bundles.api,
      description: 'tunnel-broker HTTP API (operator and agent routes)',
      secrets: [this.adminTokenSecret, ...(this.legacyDataKeysSecret ? [this.legacyDataKeysSecret] : [])],
      dataKey: this.dataKey,
      environment: {
        BROKER_ADMIN_TOKEN_SECRET_ARN: this.adminTokenSecret.secretArn,
        DATA_KEY_KMS_KEY_ID: this.dataKey.keyArn,
        ...(this.legacyDataKeysSecret ? { DATA_KEYS_SECRET_ARN: this.legacyDataKeysSecret.secretArn } : {}),
        // The endpoint answer carries the tenant's DNS name (published by the autoscaler).
        ...(props.vpnDomain && props.vpnHostedZoneId ? { VPN_DNS_DOMAIN: props.vpnDomain } : {}),
      },
      reservedConcurrentExecutions: props.apiReservedConcurrency,
      ...(brokerVpc ? { vpc: brokerVpc } : {}),
    });
    this.reaperFunction = new BrokerFunction(this, 'ReaperFunction', {
      ...common,
      bundleDir: props.bundles.reaper,
      description: 'tunnel-broker reaper: dead agents, their sessions, expired leases',
      timeout: Duration.seconds(55),
      reservedConcurrentExecutions: 1, // one sweep at a time
    });
    new events.Rule(this, 'ReaperSchedule', {
      description: 'runs the tunnel-broker reaper',
      schedule: events.Schedule.rate(props.reaperInterval ?? Duration.millis(SCHEDULED_JOBS.reaper.intervalMs)),
      targets: [new targets.LambdaFunction(this.reaperFunction.function, { retryAttempts: 0 })],
    });

    this.api = new BrokerApi(this, 'Api', {
      handler: this.apiFunction.function,
      throttleRateLimit: props.throttleRateLimit,
      throttleBurstLimit: props.throttleBurstLimit,
      accessLogRetention: logRetention,
    });

    if (props.bundles.agent && props.fleet !== false) {
      this.fleet = new EdgeFleet(this, 'EdgeFleet', {
        ...props.fleet,
        agentBundleDir: props.bundles.agent,
        brokerUrl: this.api.url,
        flowLogRetention: logRetention,
      });
    } else if (!props.bundles.agent && props.fleet !== false) {
      Annotations.of(this).addWarningV2('tunnel-broker:no-agent-bundle', 'no edge-agent bundle (edge-agent/src/cli.ts not built): the edge fleet is left out');
    }

    if (props.bundles.autoscaler) {
      this.autoscalerFunction = this.buildAutoscaler(props.bundles.autoscaler, common, props);
    }
    if (props.bundles.radiusAccounting) {
      this.radiusAccountingFunction = this.buildRadiusAccounting(props.bundles.radiusAccounting, common, brokerVpc);
    }

    this.alarms = new BrokerAlarms(this, 'Alarms', {
      api: this.api.api,
      functions: {
        Api: this.apiFunction.function,
        Reaper: this.reaperFunction.function,
        ...(this.autoscalerFunction ? { Autoscaler: this.autoscalerFunction.function } : {}),
        ...(this.radiusAccountingFunction ? { RadiusAccounting: this.radiusAccountingFunction.function } : {}),
      },
      fleet: this.fleet?.autoScalingGroup,
      alarmTopicArn: props.alarmTopicArn,
    });

    this.outputs();
  }

  /**
   * The RADIUS accounting sender (docs/radius-accounting.md): drains the outbox on a schedule. It
   * opens tenants' sealed secrets, so it gets the data key, and no admin token (it serves no
   * request). Like the API function it runs in the broker VPC when one is given (-c brokerVpcId), so
   * it reaches the same servers the authentication does.
   */
  private buildRadiusAccounting(
    bundleDir: string,
    common: { table: BrokerTable; logLevel?: LogLevel; logRetention?: logs.RetentionDays },
    brokerVpc: { vpc: ec2.IVpc; subnets: ec2.SubnetSelection } | undefined,
  ): BrokerFunction {
    const fn = new BrokerFunction(this, 'RadiusAccountingFunction', {
      ...common,
      bundleDir,
      description: 'tunnel-broker RADIUS accounting: sends the accounting outbox to tenants\' servers',
      timeout: Duration.seconds(55),
      reservedConcurrentExecutions: 1, // claims keep two senders apart anyway; one keeps the load even
      dataKey: this.dataKey,
      secrets: this.legacyDataKeysSecret ? [this.legacyDataKeysSecret] : [],
      environment: {
        DATA_KEY_KMS_KEY_ID: this.dataKey.keyArn,
        ...(this.legacyDataKeysSecret ? { DATA_KEYS_SECRET_ARN: this.legacyDataKeysSecret.secretArn } : {}),
      },
      ...(brokerVpc ? { vpc: brokerVpc } : {}),
    });
    new events.Rule(this, 'RadiusAccountingSchedule', {
      description: 'sends waiting RADIUS accounting records',
      schedule: events.Schedule.rate(Duration.millis(SCHEDULED_JOBS.radiusAccounting.intervalMs)),
      targets: [new targets.LambdaFunction(fn.function, { retryAttempts: 0 })],
    });
    return fn;
  }

  /**
   * The autoscaling decision: scheduled, and told about the fleet's lifecycle actions (launch:
   * enrol; terminate: drain). Publishes tenant DNS records when a hosted zone is configured.
   */
  private buildAutoscaler(
    bundleDir: string,
    common: { table: BrokerTable; logLevel?: LogLevel; logRetention?: logs.RetentionDays },
    props: Pick<TunnelBrokerStackProps, 'autoscalerInterval' | 'vpnHostedZoneId' | 'vpnDomain'>,
  ): BrokerFunction {
    const fleet = this.fleet;
    const dns = props.vpnHostedZoneId && props.vpnDomain ? { zoneId: props.vpnHostedZoneId, domain: props.vpnDomain } : undefined;
    const fn = new BrokerFunction(this, 'AutoscalerFunction', {
      ...common,
      bundleDir,
      description: 'tunnel-broker autoscaler: desired agents, enrolment, drain on scale-in, tenant DNS',
      timeout: Duration.seconds(55),
      reservedConcurrentExecutions: 1, // decisions must not race each other
      environment: {
        METRICS_NAMESPACE: FLEET_METRICS.namespace,
        ...(fleet
          ? {
              AUTOSCALING_GROUP_NAME: fleet.autoScalingGroup.autoScalingGroupName,
              DRAIN_LIFECYCLE_HOOK_NAME: fleet.drainHook.lifecycleHookName,
              AGENT_TOKEN_PARAMETER_PREFIX: fleet.tokenParameterPrefix,
              AGENT_REGION: this.region,
              // The broker's drain deadline is the drain hook's timeout: the VM never goes before it.
              DRAIN_TIMEOUT_SECONDS: String(fleet.drainTimeout.toSeconds()),
              MIN_AGENTS: String(fleet.minAgents),
              MAX_AGENTS: String(fleet.maxAgents),
            }
          : {}),
        ...(dns ? { VPN_HOSTED_ZONE_ID: dns.zoneId, VPN_DNS_DOMAIN: dns.domain } : {}),
      },
    });
    new events.Rule(this, 'AutoscalerSchedule', {
      description: 'runs the tunnel-broker autoscaling decision',
      schedule: events.Schedule.rate(props.autoscalerInterval ?? Duration.millis(SCHEDULED_JOBS.autoscaler.intervalMs)),
      targets: [new targets.LambdaFunction(fn.function, { retryAttempts: 0 })],
    });
    if (dns) {
      // Only A-record UPSERTs of <tenant>.vpn.<domain> names in this one zone.
      fn.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['route53:ChangeResourceRecordSets'],
          resources: [this.formatArn({ service: 'route53', region: '', account: '', resource: 'hostedzone', resourceName: dns.zoneId })],
          conditions: {
            'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': [`*.vpn.${dns.domain}`] },
            'ForAllValues:StringEquals': {
              'route53:ChangeResourceRecordSetsRecordTypes': ['A'],
              'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
            },
          },
        }),
      );
    }
    if (fleet) {
      const group = fleet.autoScalingGroup;
      // Exactly the calls AwsScalingProvider and the lifecycle handler make; all take the group ARN.
      fn.role.addToPolicy(new iam.PolicyStatement({ actions: [...AUTOSCALER_GROUP_ACTIONS], resources: [group.autoScalingGroupArn] }));
      // Enrolment: writes each new VM's credential where only that fleet's instances can read it,
      // and deletes it when the VM goes. SecureString with the account's aws/ssm key, whose key
      // policy already lets account principals encrypt through SSM.
      fn.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['ssm:PutParameter', 'ssm:DeleteParameter'],
          resources: [this.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${fleet.tokenParameterPrefix.slice(1)}*` })],
        }),
      );
      // The public address a new VM is enrolled with (pinned: the agent cannot report another).
      // DescribeInstances has no resource-level permissions, so the resource is "*": read-only, this region.
      fn.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['ec2:DescribeInstances'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:RequestedRegion': this.region } },
        }),
      );
      new events.Rule(this, 'FleetLifecycleEvents', {
        description: 'tells the autoscaler about new agent VMs (enrol) and terminations (drain)',
        eventPattern: {
          source: ['aws.autoscaling'],
          detailType: [...FLEET_EVENT_DETAIL_TYPES],
          detail: { AutoScalingGroupName: [group.autoScalingGroupName] },
        },
        targets: [new targets.LambdaFunction(fn.function, { retryAttempts: 2 })],
      });
    }
    return fn;
  }

  private outputs(): void {
    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Broker API base URL' });
    new CfnOutput(this, 'TableName', { value: this.table.table.tableName, description: 'DynamoDB table' });
    new CfnOutput(this, 'AdminTokenSecretArn', { value: this.adminTokenSecret.secretArn, description: 'Fleet admin token (Secrets Manager)' });
    new CfnOutput(this, 'FirstAdminKey', {
      description: 'How to create the first scoped API key with the admin token',
      value: [
        `TOKEN=$(aws secretsmanager get-secret-value --secret-id ${this.adminTokenSecret.secretArn} --query SecretString --output text);`,
        `curl -sS -X POST ${this.api.url}v1/api-keys -H "Authorization: Bearer $TOKEN"`,
        `-H 'content-type: application/json' -d '{"scope":"fleet","name":"ops"}'`,
      ].join(' '),
    });
    if (this.fleet) {
      new CfnOutput(this, 'AgentGroupName', { value: this.fleet.autoScalingGroup.autoScalingGroupName, description: 'Edge agent Auto Scaling group' });
      new CfnOutput(this, 'AgentTokenParameterPrefix', {
        value: this.fleet.tokenParameterPrefix,
        description: 'SSM SecureString <prefix><instance-id> holds each agent VM credential',
      });
    }
    if (this.autoscalerFunction && this.vpnDomain) {
      new CfnOutput(this, 'TenantDnsNames', { value: `<tenant-id>.vpn.${this.vpnDomain}`, description: 'A records the autoscaler publishes per tenant' });
    }
  }

  /** The operator's VPC and subnets, by id (no lookup: the stack stays env-agnostic and synthesizes offline). */
  private importBrokerVpc(v: { readonly vpcId: string; readonly subnetIds: readonly string[] }): { vpc: ec2.IVpc; subnets: ec2.SubnetSelection } {
    const problems = new Problems();
    problems.check(!/^vpc-[0-9a-f]{8,17}$/.test(v.vpcId), `brokerVpc.vpcId "${v.vpcId}" must look like vpc-0123abcd`);
    problems.check(v.subnetIds.length === 0, 'brokerVpc.subnetIds must name at least one subnet');
    for (const id of v.subnetIds) problems.check(!/^subnet-[0-9a-f]{8,17}$/.test(id), `brokerVpc subnet "${id}" must look like subnet-0123abcd`);
    problems.throwIfAny('TunnelBrokerStack brokerVpc');
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'BrokerVpc', {
      vpcId: v.vpcId,
      availabilityZones: v.subnetIds.map((_, i) => Fn.select(i, Fn.getAzs())),
      privateSubnetIds: [...v.subnetIds],
    });
    return { vpc, subnets: { subnets: v.subnetIds.map((id, i) => ec2.Subnet.fromSubnetId(this, `BrokerSubnet${i}`, id)) } };
  }
}
