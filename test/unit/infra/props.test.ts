/** Bad props and bad context fail before anything is built, with every problem named. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { settingsFromContext, type ContextKey } from '../../../infra/lib/app-context';
import { agentBootScript, shellQuote } from '../../../infra/lib/agent-boot-script';
import { BrokerApi } from '../../../infra/lib/broker-api';
import { BrokerFunction } from '../../../infra/lib/broker-function';
import { BrokerTable } from '../../../infra/lib/broker-table';
import { EdgeFleet } from '../../../infra/lib/edge-fleet';
import { InfraConfigError } from '../../../infra/lib/errors';
import { TunnelBrokerStack } from '../../../infra/lib/tunnel-broker-stack';
import { stubBundles } from '../../support/infra/stub-bundles';

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof InfraConfigError, `expected InfraConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('expected a throw');
}

const bundles = stubBundles();

describe('BrokerTable', () => {
  test('DESTROY with deletion protection on is rejected', () => {
    const problems = problemsOf(() => new BrokerTable(new Stack(), 'T', { removalPolicy: RemovalPolicy.DESTROY }));
    assert.deepEqual(problems.length, 1);
    assert.match(problems[0]!, /removalPolicy DESTROY needs deletionProtection: false/);
  });

  test('every problem is reported at once', () => {
    const problems = problemsOf(
      () =>
        new BrokerTable(new Stack(), 'T', {
          tableName: 'x',
          definition: {
            partitionKey: { name: 'PK', type: 'S' },
            sortKey: { name: 'SK', type: 'S' },
            timeToLiveAttribute: '',
            globalSecondaryIndexes: [
              { indexName: 'A', partitionKey: { name: 'a', type: 'S' }, sortKey: { name: 'b', type: 'S' }, projection: 'ALL', purpose: '' },
              { indexName: 'A', partitionKey: { name: 'a', type: 'S' }, sortKey: { name: 'b', type: 'S' }, projection: 'ALL', purpose: '' },
            ],
          },
        }),
    );
    assert.equal(problems.length, 3);
    assert.match(problems.join('\n'), /tableName "x"/);
    assert.match(problems.join('\n'), /duplicate index names/);
    assert.match(problems.join('\n'), /timeToLiveAttribute/);
  });

  test('a valid throw-away table builds', () => {
    const t = new BrokerTable(new Stack(), 'T', { removalPolicy: RemovalPolicy.DESTROY, deletionProtection: false });
    assert.ok(t.table.tableArn);
  });
});

describe('BrokerFunction', () => {
  test('missing bundle, bad sizes and reserved env keys are all named', () => {
    const stack = new Stack();
    const table = new BrokerTable(stack, 'T');
    const error = (() => {
      try {
        new BrokerFunction(stack, 'F', {
          bundleDir: '/definitely/not/here',
          description: 'x',
          table,
          memorySize: 64,
          timeout: Duration.minutes(20),
          environment: { TABLE_NAME: 'other' },
        });
      } catch (e) {
        return e as InfraConfigError;
      }
      return undefined;
    })();
    assert.ok(error instanceof InfraConfigError);
    assert.match(error.message, /^BrokerFunction F: invalid configuration:/);
    assert.equal(error.problems.length, 4);
    assert.match(error.message, /has no index\.mjs: run `npx tsx scripts\/build-bundles\.ts` first/);
    assert.match(error.message, /memorySize 64/);
    assert.match(error.message, /timeout 1200s/);
    assert.match(error.message, /must not set TABLE_NAME/);
  });
});

describe('BrokerApi', () => {
  test('throttle limits must be positive', () => {
    const stack = new Stack();
    const fn = new lambda.Function(stack, 'F', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('x') });
    const problems = problemsOf(() => new BrokerApi(stack, 'A', { handler: fn, throttleRateLimit: 0, throttleBurstLimit: -1 }));
    assert.equal(problems.length, 2);
  });

  test('vpnHostedZoneId and vpnDomain: both or neither, each well formed', () => {
    assert.match(problemsOf(() => new TunnelBrokerStack(new App(), 'S', { bundles, vpnHostedZoneId: 'Z0123456789ABC' })).join('\n'), /given together/);
    const bad = problemsOf(() => new TunnelBrokerStack(new App(), 'S', { bundles, vpnHostedZoneId: 'zone-1', vpnDomain: 'Example.COM' }));
    assert.equal(bad.length, 2, bad.join('\n'));
    const ok = new TunnelBrokerStack(new App(), 'S', { bundles, vpnHostedZoneId: 'Z0123456789ABC', vpnDomain: 'example.com' });
    assert.equal(ok.vpnDomain, 'example.com');
    assert.equal(new TunnelBrokerStack(new App(), 'S', { bundles }).vpnDomain, undefined);
  });
});

describe('EdgeFleet', () => {
  test('min > max, bad CIDR, drain timeout and node version are reported together', () => {
    const problems = problemsOf(
      () =>
        new EdgeFleet(new Stack(), 'E', {
          agentBundleDir: bundles.agent!,
          brokerUrl: 'https://example.test/',
          minAgents: 5,
          maxAgents: 2,
          clientCidr: '10.0.0.0/33',
          drainTimeout: Duration.hours(3),
          nodeVersion: '22',
          tokenParameterPrefix: 'no-slash',
        }),
    );
    assert.equal(problems.length, 5);
    assert.match(problems.join('\n'), /minAgents 5 must not exceed maxAgents 2/);
    assert.match(problems.join('\n'), /clientCidr "10\.0\.0\.0\/33"/);
    assert.match(problems.join('\n'), /drainTimeout 10800s/);
    assert.match(problems.join('\n'), /nodeVersion "22"/);
    assert.match(problems.join('\n'), /tokenParameterPrefix "no-slash"/);
  });

  test('commandNudgePort: 0 (off) or a free UDP port, not one of the VPN ports; 0 opens no port and sets 0 in the boot script', () => {
    for (const bad of [500, 1701, 4500, 70_000, 1.5, -1]) {
      const problems = problemsOf(() => new EdgeFleet(new Stack(), 'E', { agentBundleDir: bundles.agent!, brokerUrl: 'https://x/', commandNudgePort: bad }));
      assert.equal(problems.length, 1, `${bad}: ${problems.join('\n')}`);
      assert.match(problems[0]!, new RegExp(`commandNudgePort ${bad} must be 0 \\(off\\)`));
    }
    const stack = new Stack();
    const off = new EdgeFleet(stack, 'E', { agentBundleDir: bundles.agent!, brokerUrl: 'https://x/', commandNudgePort: 0 });
    const template = Template.fromStack(stack);
    const group = Object.values(template.findResources('AWS::EC2::SecurityGroup'))[0]!;
    const ports = (group.Properties.SecurityGroupIngress as { FromPort?: number }[]).map((r) => r.FromPort);
    assert.deepEqual(ports.filter((p) => p !== undefined).sort(), [1701, 4500, 500]);
    const userData = JSON.stringify(Object.values(template.findResources('AWS::EC2::LaunchTemplate'))[0]!.Properties.LaunchTemplateData.UserData);
    assert.ok(userData.includes('COMMAND_NUDGE_PORT=0'), 'the agents are told nudges are off');
    assert.ok(off.securityGroup);
  });

  test('upgradeWarmup within 0..1 h; imageParameter an SSM path, which the launch template resolves', () => {
    const problems = problemsOf(() => new EdgeFleet(new Stack(), 'F', { agentBundleDir: bundles.agent!, brokerUrl: 'https://x', upgradeWarmup: Duration.hours(2), imageParameter: 'ami-123' }));
    assert.deepEqual(problems, ['upgradeWarmup 7200s must be within 0..3600 seconds', 'imageParameter "ami-123" must be an SSM parameter path such as /tunnel-broker/agent-ami']);
    const stack = new Stack();
    new EdgeFleet(stack, 'F', { agentBundleDir: bundles.agent!, brokerUrl: 'https://x', imageParameter: '/ops/agent-ami' });
    const params = Template.fromStack(stack).toJSON().Parameters as Record<string, { Type: string; Default: string }>;
    assert.ok(Object.values(params).some((p) => p.Default === '/ops/agent-ami' && p.Type.includes('AWS::EC2::Image::Id')), JSON.stringify(params));
  });

  test('a missing agent bundle is named with the command that builds it', () => {
    const problems = problemsOf(() => new EdgeFleet(new Stack(), 'E', { agentBundleDir: '/nope', brokerUrl: 'https://x/' }));
    assert.match(problems[0]!, /no edge-agent\.mjs: run `npx tsx scripts\/build-bundles\.ts`/);
  });
});

describe('TunnelBrokerStack', () => {
  test('schedule intervals must be whole minutes', () => {
    const problems = problemsOf(
      () => new TunnelBrokerStack(new App(), 'S', { bundles, reaperInterval: Duration.seconds(30), autoscalerInterval: Duration.seconds(90) }),
    );
    assert.equal(problems.length, 2);
  });

  test('an upgrade warmup as long as the scale-in streak is refused (the autoscaler would drain the new agents)', () => {
    const build = (minutes: number) => () => new TunnelBrokerStack(new App(), 'S', { bundles, fleet: { upgradeWarmup: Duration.minutes(minutes) } });
    const problems = problemsOf(build(4));
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /fleet\.upgradeWarmup 240s plus one autoscaler interval must stay below the scale-in streak \(5 x 60s\)/);
    assert.ok(build(3)().fleet);
  });

  test('without agent or autoscaler bundles, the fleet and autoscaler are left out', () => {
    const stack = new TunnelBrokerStack(new App(), 'S', { bundles: stubBundles({ agent: false, autoscaler: false }) });
    assert.equal(stack.fleet, undefined);
    assert.equal(stack.autoscalerFunction, undefined);
    assert.ok(stack.apiFunction && stack.reaperFunction);
  });
});

describe('app context', () => {
  const from = (values: Partial<Record<ContextKey, unknown>>) => () => settingsFromContext((k) => values[k]);

  test('defaults: env-agnostic, stack TunnelBroker, table retained', () => {
    const s = from({})();
    assert.equal(s.stackName, 'TunnelBroker');
    assert.equal(s.props.env, undefined);
    assert.equal(s.props.table?.removalPolicy, undefined);
  });

  test('values from -c are parsed', () => {
    const s = from({ removalPolicy: 'destroy', deletionProtection: 'false', minAgents: '0', maxAgents: '2', fleet: 'true', drainMinutes: '10', upgradeWarmupMinutes: '2', agentImageParameter: '/ops/agent-ami' })();
    assert.equal(s.props.table?.removalPolicy, RemovalPolicy.DESTROY);
    assert.equal(s.props.table?.deletionProtection, false);
    assert.ok(s.props.fleet);
    assert.equal(s.props.fleet.maxAgents, 2);
    assert.equal(s.props.fleet.drainTimeout?.toMinutes(), 10);
    assert.equal(s.props.fleet.upgradeWarmup?.toMinutes(), 2);
    assert.equal(s.props.fleet.imageParameter, '/ops/agent-ami');
    assert.equal(from({ fleet: 'false' })().props.fleet, false);
  });

  test('every bad value is named by its key', () => {
    const problems = problemsOf(from({ removalPolicy: 'keep', minAgents: 'two', logLevel: 'loud', account: '123', deletionProtection: 'yes' }));
    const text = problems.join('\n');
    for (const key of ['removalPolicy', 'minAgents', 'logLevel', 'account', 'deletionProtection']) assert.match(text, new RegExp(`context ${key}`));
    assert.match(text, /account and region must be given together/);
  });
});

describe('agent boot script', () => {
  const lines = agentBootScript({
    agentBundleS3Url: 's3://bucket/key.zip',
    brokerUrl: 'https://api.example.test/',
    tokenParameterPrefix: '/tb/agents/',
    nodeVersion: 'v22.11.0',
    architecture: 'arm64',
    agentArgs: ["it's"],
  });
  const script = lines.join('\n');

  test('installs strongSwan, a checked Node.js and the agent as a restarting systemd unit', () => {
    assert.match(script, /apt-get install -y -q strongswan-swanctl charon-systemd/);
    assert.match(script, /node-v22\.11\.0-linux-arm64\.tar\.xz/);
    assert.match(script, /sha256sum -c -/);
    assert.match(script, /Restart=always/);
    assert.match(script, /ExecStart=\/opt\/node\/bin\/node --enable-source-maps \/opt\/edge-agent\/edge-agent\.mjs 'it'\\''s'/);
    assert.match(script, /systemctl enable --now edge-agent\.service/);
  });

  test('strongSwan\'s forecast plugin is off (it would overwrite the packet marks that tell clients behind one NAT apart)', () => {
    const at = lines.indexOf("cat > /etc/strongswan.d/zz-tunnel-broker.conf <<'SWAN'");
    assert.ok(at > 0 && at > lines.findIndex((l) => l.startsWith('apt-get install')), 'written after the packages are installed');
    assert.deepEqual(lines.slice(at + 1, lines.indexOf('SWAN', at)).map((l) => l.trim()), ['charon {', 'plugins {', 'forecast {', 'load = no', '}', '}', '}']);
    assert.ok(lines.indexOf('systemctl enable --now strongswan.service') > at, 'before charon starts');
  });

  test('the credential is fetched at service start from SSM, never embedded', () => {
    assert.match(script, /ssm get-parameter .*--with-decryption --name "\$PARAM"/);
    assert.match(script, /PARAM='\/tb\/agents\/'"\$INSTANCE_ID"/);
    assert.match(script, /umask 077/);
    // Quoted heredoc: the script is written verbatim; $TOKEN is expanded only when it runs on the VM.
    assert.ok(lines.includes("cat > /usr/local/libexec/edge-agent-credentials <<'CREDS'"));
    assert.match(script, /AGENT_TOKEN=\$TOKEN/);
  });

  test('agent settings use the names edge-agent/src/config.ts reads', () => {
    for (const name of ['BROKER_URL=', 'AGENT_TOKEN=', 'AGENT_ID=', 'PUBLIC_ADDRESS=']) assert.ok(script.includes(name), name);
  });

  test('cloud 1:1 NAT mode on, with the public address from instance metadata, and iptables installed (issue 15)', () => {
    assert.match(script, /PUBLIC_IP=\$\(imds public-ipv4\)/);
    const env = script.slice(script.indexOf('<<ENV'), script.indexOf('\nENV', script.indexOf('<<ENV')));
    assert.match(env, /^PUBLIC_ADDRESS=\$PUBLIC_IP$/m);
    assert.match(env, /^CLOUD_NAT=on$/m);
    assert.match(script, /apt-get install -y -q [^\n]*\biptables\b/);
  });

  test('shellQuote', () => {
    assert.equal(shellQuote('plain-word'), 'plain-word');
    assert.equal(shellQuote('a b'), "'a b'");
  });
});
