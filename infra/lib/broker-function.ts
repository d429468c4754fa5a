import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { BrokerTable } from './broker-table';
import { Problems, optionalIntIn } from './errors';

/**
 * The DynamoDB actions the broker's Store uses, and nothing else. Transactions (TransactWriteItems /
 * TransactGetItems) are authorised per item by PutItem/UpdateItem/DeleteItem/ConditionCheckItem/GetItem,
 * so they need no action of their own. DescribeTable backs Store.ping (GET /healthz). No Scan: every
 * list goes through a key or an index (see table-definition.ts, ByKind).
 */
export const TABLE_ACTIONS: readonly string[] = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
];

/** What the broker does with its KMS key, and the encryption context every call carries (kms-data-keys.ts). */
export const DATA_KEY_ACTIONS: readonly string[] = ['kms:GenerateDataKey', 'kms:Decrypt'];
export const DATA_KEY_CONTEXT_SERVICE = 'tunnel-broker';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface BrokerFunctionProps {
  /** Folder holding the esbuild output `index.mjs` (exporting `handler`), e.g. dist/functions/api. */
  readonly bundleDir: string;
  readonly description: string;
  /** The table this function reads and writes; it gets TABLE_ACTIONS on it and its indexes only. */
  readonly table: BrokerTable;
  /** Secrets the function reads at cold start (GetSecretValue on exactly these). @default [] */
  readonly secrets?: readonly secretsmanager.ISecret[];
  /**
   * The customer-managed KMS key that wraps the broker's data keys: the function may
   * GenerateDataKey and Decrypt with it, only under the encryption context
   * `service=tunnel-broker` (functions/src/entry/kms-data-keys.ts). @default - no KMS access
   */
  readonly dataKey?: kms.IKey;
  /** Extra environment; TABLE_NAME and LOG_LEVEL are always set. @default {} */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default 'info' */
  readonly logLevel?: LogLevel;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default Duration.seconds(15) */
  readonly timeout?: Duration;
  /** Caps concurrent executions (protects the table and the bill); unset = account pool. @default - none */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Runs the function in these subnets of a VPC (e.g. to reach tenants' RADIUS servers over a VPN),
   * with a security group of its own that allows all outbound traffic. The subnets must route to
   * DynamoDB, KMS and Secrets Manager (NAT or VPC endpoints): that is the operator's part.
   * @default - no VPC (AWS's network)
   */
  readonly vpc?: { readonly vpc: ec2.IVpc; readonly subnets: ec2.SubnetSelection };
}

/** What Lambda needs to attach a function to a VPC (its network interfaces); the Describe call has no resource-level permission. */
export const VPC_ENI_ACTIONS: readonly string[] = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

const RESERVED_ENV = ['TABLE_NAME', 'LOG_LEVEL', 'NODE_OPTIONS'];

/**
 * One broker Lambda function: nodejs22.x on arm64 (Graviton: cheaper per GB-second, and nothing in the
 * bundle is architecture specific), code from the project's own esbuild output via Code.fromAsset (no
 * Docker at synth), its own log group with a retention, and a role that can write only its own logs and
 * touch only this table with only the actions the Store uses.
 */
export class BrokerFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BrokerFunctionProps) {
    super(scope, id);
    const problems = new Problems();
    problems.check(
      !existsSync(join(props.bundleDir, 'index.mjs')),
      `bundleDir "${props.bundleDir}" has no index.mjs: run \`npx tsx scripts/build-bundles.ts\` first`,
    );
    problems.check(!optionalIntIn(props.memorySize, 128, 10240), `memorySize ${props.memorySize} must be an integer in 128..10240 MB`);
    const timeoutSeconds = props.timeout?.toSeconds();
    problems.check(!optionalIntIn(timeoutSeconds, 1, 900), `timeout ${timeoutSeconds}s must be within 1..900 seconds`);
    problems.check(
      !optionalIntIn(props.reservedConcurrentExecutions, 1, 10000),
      `reservedConcurrentExecutions ${props.reservedConcurrentExecutions} must be a positive integer`,
    );
    problems.check(
      props.logLevel !== undefined && !LOG_LEVELS.includes(props.logLevel),
      `logLevel "${props.logLevel}" must be one of ${LOG_LEVELS.join(', ')}`,
    );
    for (const key of Object.keys(props.environment ?? {})) {
      problems.check(RESERVED_ENV.includes(key), `environment must not set ${key}: the construct sets it`);
    }
    problems.throwIfAny(`BrokerFunction ${id}`);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description}: own logs, the broker table and its indexes`,
    });
    // Inline instead of AWSLambdaBasicExecutionRole: that managed policy may write to any log group.
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.role.addToPolicy(new iam.PolicyStatement({ actions: [...TABLE_ACTIONS], resources: props.table.resourceArns }));
    if (props.dataKey) {
      this.role.addToPolicy(
        new iam.PolicyStatement({
          actions: [...DATA_KEY_ACTIONS],
          resources: [props.dataKey.keyArn],
          conditions: { StringEquals: { 'kms:EncryptionContext:service': DATA_KEY_CONTEXT_SERVICE } },
        }),
      );
    }
    for (const secret of props.secrets ?? []) {
      this.role.addToPolicy(
        new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }),
      );
    }

    if (props.vpc) {
      // Instead of AWSLambdaVPCAccessExecutionRole, which also grants writing to any log group.
      this.role.addToPolicy(new iam.PolicyStatement({ actions: [...VPC_ENI_ACTIONS], resources: ['*'] }));
    }

    this.function = new lambda.Function(this, 'Function', {
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(props.bundleDir),
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(15),
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      ...(props.vpc ? { vpc: props.vpc.vpc, vpcSubnets: props.vpc.subnets } : {}),
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        ...props.environment,
        TABLE_NAME: props.table.table.tableName,
        LOG_LEVEL: props.logLevel ?? 'info',
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    // The role's policy must exist before the function can be invoked by a schedule or the API.
    this.function.node.addDependency(this.role);
  }
}
