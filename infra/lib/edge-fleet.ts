import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { DEFAULT_NUDGE_PORT } from '../../contract/src/command-nudge';
import { agentBootScript } from './agent-boot-script';
import { Problems } from './errors';

/** The ports an L2TP/IPsec endpoint needs (RFC 3193 §4-5; NAT-T per RFC 3947/3948). */
export const EDGE_INGRESS = {
  ike: { protocol: 'udp', port: 500 },
  natT: { protocol: 'udp', port: 4500 },
  l2tp: { protocol: 'udp', port: 1701 },
  /** IP protocol 50: ESP without NAT traversal. */
  esp: { protocol: '50' },
} as const;

export interface EdgeFleetProps {
  /** Folder with the agent bundle (edge-agent.mjs, optional package.json for native modules). */
  readonly agentBundleDir: string;
  /** Broker API base URL the agents call (usually a token: the HTTP API's URL). */
  readonly brokerUrl: string;
  /**
   * SSM path under which each agent's bearer credential lives, as a SecureString named
   * `<prefix><instance-id>`. The instance role may read only this path. Must start and end with '/'.
   * @default '/tunnel-broker/<stack name>/agents/'
   */
  readonly tokenParameterPrefix?: string;
  /** @default ec2.InstanceType.of(T4G, SMALL) (Graviton, arm64) */
  readonly instanceType?: ec2.InstanceType;
  /** @default 1 */
  readonly minAgents?: number;
  /** @default 4 */
  readonly maxAgents?: number;
  /** Where VPN clients may connect from. @default '0.0.0.0/0' */
  readonly clientCidr?: string;
  /**
   * How long scale-in waits for an agent to drain (lifecycle hook heartbeat) before the VM is
   * terminated anyway. Between 30 s and 2 h (the hook's limit).
   * @default Duration.hours(1)
   */
  readonly drainTimeout?: Duration;
  /**
   * How long a new VM waits in Pending:Wait for the autoscaler to enrol it (launch lifecycle hook)
   * before the group abandons it and launches another. Between 30 s and 2 h.
   * @default Duration.minutes(10)
   */
  readonly enrolTimeout?: Duration;
  /**
   * Rolling upgrade: after a replacement VM is InService (enrolled), how long the instance refresh
   * waits before it terminates (drains) the old ones, so the new agent has booted and registered
   * and placement can send clients to it. Between 0 and 1 h.
   * @default Duration.minutes(3)
   */
  readonly upgradeWarmup?: Duration;
  /**
   * SSM parameter holding the agents' AMI id, read by CloudFormation at each deploy. Pin an image
   * (or roll back to one) with a parameter of your own (`--data-type aws:ec2:image`).
   * @default Canonical's Ubuntu 24.04 "current" parameter for the instance type's architecture
   */
  readonly imageParameter?: string;
  /** Exact Node.js release installed on the VMs. @default 'v22.11.0' */
  readonly nodeVersion?: string;
  /** Arguments for `edge-agent.mjs` in the systemd unit. @default [] */
  readonly agentArgs?: readonly string[];
  /** Existing VPC; its public subnets host the agents. @default - a new 2-AZ VPC with public subnets only */
  readonly vpc?: ec2.IVpc;
  /** Retention of the VPC flow log (rejected traffic). @default logs.RetentionDays.ONE_MONTH */
  readonly flowLogRetention?: logs.RetentionDays;
  /**
   * UDP port where agents listen for the broker's command nudges (a disconnect reaches the agent at
   * once instead of at its next heartbeat). Opened to any address: the broker's Lambda has no fixed
   * one, and a nudge is authenticated and carries no command (contract/src/command-nudge.ts).
   * 0 turns nudges off (commands then wait for the heartbeat).
   * @default DEFAULT_NUDGE_PORT (1717)
   */
  readonly commandNudgePort?: number;
}

/** EdgeFleetProps.upgradeWarmup's default. */
export const DEFAULT_UPGRADE_WARMUP = Duration.minutes(3);

const NODE_VERSION_PATTERN = /^v\d+\.\d+\.\d+$/;

/**
 * The edge fleet: Linux VMs in an Auto Scaling group, each running strongSwan and the edge agent,
 * reachable on a public IPv4 address that the agent reports to the broker at registration (that is
 * what placement hands to clients). A launch lifecycle hook holds a new VM in Pending:Wait until the
 * autoscaler has enrolled it (agent named by the instance id, credential in SSM); a termination
 * hook holds a VM in Terminating:Wait so the autoscaler can drain it (drain command via heartbeat;
 * CompleteLifecycleAction once empty).
 */
export class EdgeFleet extends Construct {
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.SecurityGroup;
  readonly role: iam.Role;
  readonly launchTemplate: ec2.LaunchTemplate;
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  readonly drainHook: autoscaling.LifecycleHook;
  /** Holds each new VM until the autoscaler has enrolled it (agent + SSM credential). */
  readonly enrolHook: autoscaling.LifecycleHook;
  readonly agentBundle: s3assets.Asset;
  readonly tokenParameterPrefix: string;
  /** The drain hook's heartbeat: the autoscaler must give drains the same deadline. */
  readonly drainTimeout: Duration;
  readonly minAgents: number;
  readonly maxAgents: number;
  /** See EdgeFleetProps.upgradeWarmup. */
  readonly upgradeWarmup: Duration;

  constructor(scope: Construct, id: string, props: EdgeFleetProps) {
    super(scope, id);
    const minAgents = props.minAgents ?? 1;
    const maxAgents = props.maxAgents ?? 4;
    const clientCidr = props.clientCidr ?? '0.0.0.0/0';
    const drainTimeout = props.drainTimeout ?? Duration.hours(1);
    const enrolTimeout = props.enrolTimeout ?? Duration.minutes(10);
    const upgradeWarmup = props.upgradeWarmup ?? DEFAULT_UPGRADE_WARMUP;
    const nodeVersion = props.nodeVersion ?? 'v22.11.0';
    const commandNudgePort = props.commandNudgePort ?? DEFAULT_NUDGE_PORT;
    const prefix = props.tokenParameterPrefix ?? `/tunnel-broker/${Stack.of(this).stackName}/agents/`;
    const instanceType = props.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.SMALL);

    const problems = new Problems();
    problems.check(
      !existsSync(join(props.agentBundleDir, 'edge-agent.mjs')),
      `agentBundleDir "${props.agentBundleDir}" has no edge-agent.mjs: run \`npx tsx scripts/build-bundles.ts\` first`,
    );
    problems.check(!(Number.isInteger(minAgents) && minAgents >= 0), `minAgents ${minAgents} must be an integer >= 0`);
    problems.check(!(Number.isInteger(maxAgents) && maxAgents >= 1), `maxAgents ${maxAgents} must be an integer >= 1`);
    problems.check(minAgents > maxAgents, `minAgents ${minAgents} must not exceed maxAgents ${maxAgents}`);
    problems.check(!isIpv4Cidr(clientCidr), `clientCidr "${clientCidr}" must be an IPv4 CIDR such as 203.0.113.0/24`);
    const drainSeconds = drainTimeout.toSeconds();
    problems.check(drainSeconds < 30 || drainSeconds > 7200, `drainTimeout ${drainSeconds}s must be within 30..7200 seconds`);
    const enrolSeconds = enrolTimeout.toSeconds();
    problems.check(enrolSeconds < 30 || enrolSeconds > 7200, `enrolTimeout ${enrolSeconds}s must be within 30..7200 seconds`);
    problems.check(
      !(Number.isInteger(commandNudgePort) && commandNudgePort >= 0 && commandNudgePort <= 65535) || Object.values(EDGE_INGRESS).some((p) => 'port' in p && p.port === commandNudgePort),
      `commandNudgePort ${commandNudgePort} must be 0 (off) or a UDP port 1..65535 other than 500, 4500 and 1701`,
    );
    const warmupSeconds = upgradeWarmup.toSeconds();
    problems.check(warmupSeconds < 0 || warmupSeconds > 3600, `upgradeWarmup ${warmupSeconds}s must be within 0..3600 seconds`);
    problems.check(
      props.imageParameter !== undefined && !/^\/[A-Za-z0-9_.\-/]+$/.test(props.imageParameter),
      `imageParameter "${props.imageParameter}" must be an SSM parameter path such as /tunnel-broker/agent-ami`,
    );
    problems.check(!NODE_VERSION_PATTERN.test(nodeVersion), `nodeVersion "${nodeVersion}" must look like v22.11.0`);
    problems.check(
      !Token.isUnresolved(prefix) && !/^\/[A-Za-z0-9_.\-/]*\/$/.test(prefix),
      `tokenParameterPrefix "${prefix}" must start and end with / and use only A-Z a-z 0-9 _ . - /`,
    );
    problems.throwIfAny(`EdgeFleet ${id}`);

    this.tokenParameterPrefix = prefix;
    this.drainTimeout = drainTimeout;
    this.minAgents = minAgents;
    this.maxAgents = maxAgents;
    this.upgradeWarmup = upgradeWarmup;
    this.vpc =
      props.vpc ??
      new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: 0, // agents have public addresses; no NAT gateway to pay for
        subnetConfiguration: [{ name: 'edge', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
      });
    if (!props.vpc) {
      (this.vpc as ec2.Vpc).addFlowLog('RejectedTraffic', {
        trafficType: ec2.FlowLogTrafficType.REJECT,
        destination: ec2.FlowLogDestination.toCloudWatchLogs(
          new logs.LogGroup(this, 'FlowLogs', { retention: props.flowLogRetention ?? logs.RetentionDays.ONE_MONTH }),
        ),
      });
    }

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: this.vpc,
      description: 'edge agents: IKE, NAT-T, L2TP, ESP from VPN clients',
      allowAllOutbound: true, // broker API, apt, nodejs.org, S3, SSM over the internet (no NAT, no endpoints)
    });
    const clients = ec2.Peer.ipv4(clientCidr);
    this.securityGroup.addIngressRule(clients, ec2.Port.udp(EDGE_INGRESS.ike.port), 'IKE (RFC 7296)');
    this.securityGroup.addIngressRule(clients, ec2.Port.udp(EDGE_INGRESS.natT.port), 'IPsec NAT traversal (RFC 3948)');
    this.securityGroup.addIngressRule(clients, ec2.Port.udp(EDGE_INGRESS.l2tp.port), 'L2TP (RFC 2661)');
    this.securityGroup.addIngressRule(clients, new ec2.Port({ protocol: ec2.Protocol.ESP, stringRepresentation: 'ESP' }), 'ESP (RFC 4303)');
    if (commandNudgePort > 0) {
      this.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.udp(commandNudgePort), 'command nudges from the broker (authenticated; no fixed source address)');
    }

    this.agentBundle = new s3assets.Asset(this, 'AgentBundle', { path: props.agentBundleDir });

    this.role = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'edge agent VMs: own credential parameter, agent bundle, Session Manager',
      // Session Manager instead of SSH: no port 22 is opened.
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameter'],
        resources: [Stack.of(this).formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${prefix.slice(1)}*` })],
      }),
    );
    // Exactly the one bundle object (CDK's grantRead would allow s3:GetObject*/List* on the asset bucket).
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [Stack.of(this).formatArn({ service: 's3', region: '', account: '', resource: this.agentBundle.s3BucketName, resourceName: this.agentBundle.s3ObjectKey })],
      }),
    );

    const architecture = instanceType.architecture === ec2.InstanceArchitecture.ARM_64 ? 'arm64' : 'x64';
    const userData = ec2.UserData.forLinux();
    userData.addCommands(
      ...agentBootScript({
        agentBundleS3Url: this.agentBundle.s3ObjectUrl,
        brokerUrl: props.brokerUrl,
        tokenParameterPrefix: prefix,
        nodeVersion,
        architecture,
        agentArgs: props.agentArgs ?? [],
        commandNudgePort,
      }),
    );
    // Canonical's public SSM parameter: resolved by CloudFormation at deploy, so synth needs no AWS call.
    // Ubuntu 24.04 LTS ships kernel 6.8 or newer (linux-aws): it has SO_RCVMARK (Linux >= 5.19),
    // which the agent's marked L2TP socket needs to tell clients behind one NAT apart by their
    // IPsec SA (docs/ipsec.md, "Several clients behind one NAT"). An older image would make the
    // agent fall back to node:dgram, and say so in its log.
    const ubuntuArch = architecture === 'arm64' ? 'arm64' : 'amd64';
    const machineImage = ec2.MachineImage.fromSsmParameter(
      props.imageParameter ?? `/aws/service/canonical/ubuntu/server/24.04/stable/current/${ubuntuArch}/hvm/ebs-gp3/ami-id`,
      { os: ec2.OperatingSystemType.LINUX },
    );

    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      instanceType,
      machineImage,
      userData,
      role: this.role,
      securityGroup: this.securityGroup,
      associatePublicIpAddress: true,
      requireImdsv2: true,
      detailedMonitoring: true,
      blockDevices: [
        { deviceName: '/dev/sda1', volume: ec2.BlockDeviceVolume.ebs(16, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }) },
      ],
    });

    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'Agents', {
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      launchTemplate: this.launchTemplate,
      minCapacity: minAgents,
      maxCapacity: maxAgents,
      // desiredCapacity is left unset on purpose: the autoscaler owns it, and a deploy must not reset it.
      healthChecks: autoscaling.HealthChecks.ec2({ gracePeriod: Duration.minutes(5) }),
      groupMetrics: [autoscaling.GroupMetrics.all()],
      // Scale-in picks the emptiest agents itself (issue 6); protect the rest from ASG's own choice.
      newInstancesProtectedFromScaleIn: false,
      updatePolicy: rollingUpgradePolicy(upgradeWarmup),
    });
    this.drainHook = this.autoScalingGroup.addLifecycleHook('Drain', {
      lifecycleTransition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      heartbeatTimeout: drainTimeout,
      // After the timeout the VM goes anyway: a stuck drain must not block scale-in forever.
      defaultResult: autoscaling.DefaultResult.CONTINUE,
    });
    this.enrolHook = this.autoScalingGroup.addLifecycleHook('Enrol', {
      lifecycleTransition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
      heartbeatTimeout: enrolTimeout,
      // Not enrolled in time (autoscaler failing): the VM could never serve, so replace it.
      defaultResult: autoscaling.DefaultResult.ABANDON,
    });
  }
}

/**
 * How a deploy that changes the launch template (new agent bundle, new Ubuntu image, instance type)
 * replaces the VMs: CloudFormation's instance refresh, not a rolling or replacing update.
 *
 * - Launch before terminate, whole group in one batch (min 100 %, max 200 % of desired): every
 *   replacement is enrolled (Enrol hook) and warmed up before any old VM goes, so serving capacity
 *   never drops, and placement only offers new agents once the old ones drain: each client moves
 *   at most once (with 110 % a client could land on an old agent that is replaced later).
 * - Old VMs go through the Drain hook like any termination: the autoscaler drains the agent with
 *   the hook's timeout as deadline, its sessions last until they end or the deadline passes
 *   (agent-shutdown), then the release completes the hook. All old agents drain in parallel, so
 *   the refresh takes about enrolment + warmup + drain timeout, whatever the fleet size.
 * - A rolling update (AutoScalingRollingUpdate) would terminate batch by batch with a PauseTime of
 *   at most 1 h and no launch-ahead beyond desired; a replacing update creates a new group, whose
 *   name the autoscaler, its event rule and the hooks are bound to, and deletes the old group
 *   with every agent at once. Neither keeps both capacity and the drain.
 * - Skip matching: a deploy that changes nothing on the VMs replaces nothing.
 */
function rollingUpgradePolicy(warmup: Duration): autoscaling.UpdatePolicy {
  return autoscaling.UpdatePolicy.instanceRefresh({
    strategy: autoscaling.InstanceRefreshStrategy.ROLLING,
    minHealthyPercentage: 100,
    maxHealthyPercentage: 200,
    instanceWarmup: warmup,
    skipMatching: true,
  });
}

function isIpv4Cidr(value: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (!m) return false;
  const octets = m.slice(1, 5).map(Number);
  return octets.every((o) => o <= 255) && Number(m[5]) <= 32;
}
