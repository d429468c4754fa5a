/**
 * The autoscaler Lambda's event handling on DynamoDB Local with fake AWS clients (no network):
 * launch lifecycle events enrol the VM (agent named by instance id, token in SSM, hook completed),
 * terminate events drain or release, the schedule evaluates and releases, and tenant DNS records
 * are UPSERTed to Route 53 only when placement's choice changes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { authenticateAgent, registerAgent } from '../../../functions/src/domain/agents-service';
import type { AutoScalingApi, InstancesApi, ParameterStoreApi } from '../../../functions/src/domain/autoscaling';
import type { Route53Api } from '../../../functions/src/domain/placement';
import { parseAutoscalerConfig } from '../../../functions/src/config';
import { createAutoscalerHandler, type AutoscalerEvent } from '../../../functions/src/entry/autoscaler';
import { createTestStore, type TestStore } from '../../support/test-store';

const GROUP = 'tb-agents';
const PREFIX = '/tunnel-broker/test/agents/';
let now = 1_700_000_000_000;
const clock = { now: () => now };
let ts: TestStore;

function fakes() {
  const calls: Array<[string, any]> = [];
  const parameters = new Map<string, string>();
  const autoScaling: AutoScalingApi = {
    async setDesiredCapacity(input) {
      calls.push(['setDesiredCapacity', input]);
    },
    async terminateInstanceInAutoScalingGroup(input) {
      calls.push(['terminate', input]);
    },
    async completeLifecycleAction(input) {
      calls.push(['complete', input]);
    },
  };
  const ssm: ParameterStoreApi & { failPuts: number } = {
    failPuts: 0,
    async putParameter(input) {
      calls.push(['putParameter', { ...input, Value: '<redacted>' }]);
      if (ssm.failPuts-- > 0) throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
      parameters.set(input.Name, input.Value);
    },
    async deleteParameter(input) {
      calls.push(['deleteParameter', input]);
      if (!parameters.delete(input.Name)) throw Object.assign(new Error('not found'), { name: 'ParameterNotFound' });
    },
  };
  const route53: Route53Api = {
    async changeResourceRecordSets(input) {
      calls.push(['changeResourceRecordSets', input]);
    },
  };
  /** EC2's public address of each instance (the last hex digit names it); none for i-...0. */
  const instances: InstancesApi = {
    async describeInstances(input) {
      calls.push(['describeInstances', input]);
      const id = input.InstanceIds[0]!;
      const n = parseInt(id.slice(-1), 16);
      return { Reservations: [{ Instances: [{ InstanceId: id, ...(n === 0 ? {} : { PublicIpAddress: `203.0.113.${n * 11}` }) }] }] };
    },
  };
  return { calls, parameters, autoScaling, ssm, route53, instances };
}

const ENV = {
  TABLE_NAME: 'unused-store-injected',
  AWS_REGION: 'eu-west-1',
  AUTOSCALING_GROUP_NAME: GROUP,
  DRAIN_LIFECYCLE_HOOK_NAME: 'Drain',
  AGENT_TOKEN_PARAMETER_PREFIX: PREFIX,
  MIN_AGENTS: '0',
  AGENT_CAPACITY: '10',
  DRAIN_TIMEOUT_SECONDS: '600',
};

function lifecycleEvent(transition: 'launch' | 'terminate', instanceId: string, group = GROUP): AutoscalerEvent {
  const launch = transition === 'launch';
  return {
    source: 'aws.autoscaling',
    'detail-type': launch ? 'EC2 Instance-launch Lifecycle Action' : 'EC2 Instance-terminate Lifecycle Action',
    detail: {
      AutoScalingGroupName: group,
      LifecycleHookName: launch ? 'Enrol' : 'Drain',
      LifecycleActionToken: `token-${instanceId}`,
      EC2InstanceId: instanceId,
      LifecycleTransition: launch ? 'autoscaling:EC2_INSTANCE_LAUNCHING' : 'autoscaling:EC2_INSTANCE_TERMINATING',
    },
  };
}

const SCHEDULE: AutoscalerEvent = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };
const silent = pino({ level: 'silent' });

function build(f: ReturnType<typeof fakes>, env: Record<string, string> = {}) {
  return createAutoscalerHandler(parseAutoscalerConfig({ ...ENV, ...env }), { autoScaling: f.autoScaling, parameters: f.ssm, instances: f.instances, route53: f.route53 }, { store: ts.store, clock, log: silent });
}

async function agentNamed(name: string) {
  const page = await ts.store.listAgents({ limit: 100 });
  return page.items.find((a) => a.name === name);
}

/** Registers the VM's agent with the token the launch handler stored, as the edge agent would. */
async function bootVm(f: ReturnType<typeof fakes>, instanceId: string, address: string) {
  const token = f.parameters.get(`${PREFIX}${instanceId}`);
  assert.ok(token, `no credential parameter for ${instanceId}`);
  const agent = await authenticateAgent({ store: ts.store }, token);
  await registerAgent({ store: ts.store, clock }, agent, { publicAddress: address, capacity: 10, version: 'test' });
  return agent.agentId;
}

describe('autoscaler fleet lifecycle (DynamoDB Local, fake AWS clients)', () => {
  before(async () => {
    ts = await createTestStore({ clock });
  });
  after(() => ts.close());

  test('launch: enrols an agent named by the instance id, stores its token as SecureString, completes the hook', async () => {
    const f = fakes();
    const handle = build(f);
    const result = await handle(lifecycleEvent('launch', 'i-0aaaaaaaaaaaaaaa1'));
    assert.equal(result.kind, 'lifecycle');
    const agent = await agentNamed('i-0aaaaaaaaaaaaaaa1');
    assert.ok(agent);
    assert.equal(agent.region, 'eu-west-1');
    assert.equal(agent.capacity, 10);
    const put = f.calls.find(([op]) => op === 'putParameter')![1];
    assert.equal(put.Name, `${PREFIX}i-0aaaaaaaaaaaaaaa1`);
    assert.equal(put.Type, 'SecureString');
    // The stored token authenticates as exactly this agent.
    const authed = await authenticateAgent({ store: ts.store }, f.parameters.get(put.Name)!);
    assert.equal(authed.agentId, agent.agentId);
    assert.deepEqual(f.calls.at(-1), [
      'complete',
      { AutoScalingGroupName: GROUP, LifecycleHookName: 'Enrol', LifecycleActionResult: 'CONTINUE', InstanceId: 'i-0aaaaaaaaaaaaaaa1', LifecycleActionToken: 'token-i-0aaaaaaaaaaaaaaa1' },
    ]);
  });

  test('launch enrols the address EC2 gave the VM: a registration reporting another one, or more capacity, changes neither (issue 14, finding 8)', async () => {
    const f = fakes();
    const handle = build(f);
    await handle(lifecycleEvent('launch', 'i-0aaaaaaaaaaaaaa15'));
    assert.deepEqual(f.calls.find(([op]) => op === 'describeInstances')?.[1], { InstanceIds: ['i-0aaaaaaaaaaaaaa15'] });
    const enrolled = await agentNamed('i-0aaaaaaaaaaaaaa15');
    assert.equal(enrolled?.publicAddress, '203.0.113.55');
    // The attack: the VM's credential registers a foreign address and the agent's default capacity.
    const token = f.parameters.get(`${PREFIX}i-0aaaaaaaaaaaaaa15`)!;
    const agent = await authenticateAgent({ store: ts.store }, token);
    await registerAgent({ store: ts.store, clock }, agent, { publicAddress: '198.18.66.66', capacity: 10_000, version: 'test' });
    const after = await ts.store.getAgent(agent.agentId);
    assert.equal(after?.publicAddress, '203.0.113.55');
    assert.equal(after?.capacity, 10, 'capped at the enrolled AGENT_CAPACITY');
    // A lower capacity is the agent's to choose.
    await registerAgent({ store: ts.store, clock }, agent, { publicAddress: '203.0.113.55', capacity: 4, version: 'test' });
    assert.equal((await ts.store.getAgent(agent.agentId))?.capacity, 4);
    await ts.store.updateAgent(agent.agentId, { revoked: true }); // out of the later tests' fleet
  });

  test('launch of a VM without a public address yet fails (EventBridge retries) and enrols nothing', async () => {
    const f = fakes();
    const handle = build(f);
    await assert.rejects(handle(lifecycleEvent('launch', 'i-0aaaaaaaaaaaaaa10')), /no public IPv4 address yet/);
    assert.equal(await agentNamed('i-0aaaaaaaaaaaaaa10'), undefined);
    assert.equal(f.calls.some(([op]) => op === 'complete' || op === 'putParameter'), false);
  });

  test('launch retried after a failed parameter write: same agent, new token, hook completed once it worked', async () => {
    const f = fakes();
    f.ssm.failPuts = 1;
    const handle = build(f);
    await assert.rejects(handle(lifecycleEvent('launch', 'i-0bbbbbbbbbbbbbbb2')), /throttled/);
    assert.equal(f.calls.some(([op]) => op === 'complete'), false, 'the hook must not continue without a credential');
    const first = await agentNamed('i-0bbbbbbbbbbbbbbb2');
    assert.ok(first);
    const retry = await handle(lifecycleEvent('launch', 'i-0bbbbbbbbbbbbbbb2'));
    assert.deepEqual(retry, { kind: 'lifecycle', outcome: { kind: 're-credentialed', agentId: first.agentId, instanceId: 'i-0bbbbbbbbbbbbbbb2' } });
    const authed = await authenticateAgent({ store: ts.store }, f.parameters.get(`${PREFIX}i-0bbbbbbbbbbbbbbb2`)!);
    assert.equal(authed.agentId, first.agentId);
    const all = (await ts.store.listAgents({ limit: 100 })).items.filter((a) => a.name === 'i-0bbbbbbbbbbbbbbb2');
    assert.equal(all.length, 1);
  });

  test('a repeated launch event after the agent registered does not rotate its token', async () => {
    const f = fakes();
    const handle = build(f);
    await handle(lifecycleEvent('launch', 'i-0ccccccccccccccc3'));
    await bootVm(f, 'i-0ccccccccccccccc3', '203.0.113.33');
    const token = f.parameters.get(`${PREFIX}i-0ccccccccccccccc3`)!;
    const again = await handle(lifecycleEvent('launch', 'i-0ccccccccccccccc3'));
    assert.equal(again.kind === 'lifecycle' && again.outcome.kind, 'already-running');
    await authenticateAgent({ store: ts.store }, token); // still valid
  });

  test('"Launch Successful" enrols a VM nobody enrolled (launched before the hook existed), and is a no-op after a hooked launch', async () => {
    const f = fakes();
    const handle = build(f);
    const launched = (id: string): AutoscalerEvent => ({
      source: 'aws.autoscaling',
      'detail-type': 'EC2 Instance Launch Successful',
      detail: { AutoScalingGroupName: GROUP, EC2InstanceId: id },
    });
    const r = await handle(launched('i-0aaaaaaaaaaaaa777'));
    assert.equal(r.kind === 'lifecycle' && r.outcome.kind, 'enrolled');
    assert.ok(f.parameters.has(`${PREFIX}i-0aaaaaaaaaaaaa777`));
    assert.equal(f.calls.some(([op]) => op === 'complete'), false, 'no hook to complete');
    await handle(lifecycleEvent('launch', 'i-0aaaaaaaaaaaaa888'));
    const token = f.parameters.get(`${PREFIX}i-0aaaaaaaaaaaaa888`);
    const again = await handle(launched('i-0aaaaaaaaaaaaa888'));
    assert.equal(again.kind === 'lifecycle' && again.outcome.kind, 'already-enrolled');
    assert.equal(f.parameters.get(`${PREFIX}i-0aaaaaaaaaaaaa888`), token, 'token not replaced');
  });

  test('terminate started by the group: an active agent drains; the evaluation releases it and deletes its parameter', async () => {
    const f = fakes();
    const handle = build(f);
    await handle(lifecycleEvent('launch', 'i-0ddddddddddddddd4'));
    const agentId = await bootVm(f, 'i-0ddddddddddddddd4', '203.0.113.44');
    f.calls.length = 0;
    const t = await handle(lifecycleEvent('terminate', 'i-0ddddddddddddddd4'));
    assert.equal(t.kind === 'lifecycle' && t.outcome.kind, 'draining');
    const drained = await ts.store.getAgent(agentId);
    assert.equal(drained?.state, 'draining');
    assert.equal(drained?.drainDeadline, now + 600_000);
    assert.equal(f.calls.some(([op]) => op === 'complete'), false, 'the hook waits for the drain');
    // Empty, so the next evaluation releases it: terminate (already terminating is tolerated), complete, delete parameter.
    const run = await handle(SCHEDULE);
    assert.equal(run.kind, 'evaluation');
    const ops = f.calls.map(([op]) => op);
    assert.ok(ops.includes('terminate') && ops.includes('complete') && ops.includes('deleteParameter'), ops.join(','));
    assert.equal((await ts.store.getAgent(agentId))?.state, 'dead');
    assert.equal(f.parameters.has(`${PREFIX}i-0ddddddddddddddd4`), false);
  });

  test('terminate of an instance already released or unknown: parameter deleted (missing is fine), hook completed', async () => {
    const f = fakes();
    const handle = build(f);
    const t = await handle(lifecycleEvent('terminate', 'i-0eeeeeeeeeeeeeee5'));
    assert.deepEqual(t, { kind: 'lifecycle', outcome: { kind: 'released', instanceId: 'i-0eeeeeeeeeeeeeee5' } });
    assert.deepEqual(f.calls.map(([op]) => op), ['deleteParameter', 'complete']);
  });

  test("another group's event or a bad instance id is refused", async () => {
    const f = fakes();
    const handle = build(f);
    await assert.rejects(handle(lifecycleEvent('launch', 'i-0fffffffffffffff6', 'other-group')), /other-group/);
    await assert.rejects(handle(lifecycleEvent('launch', 'not-an-instance')), /EC2InstanceId/);
    assert.equal(f.calls.length, 0);
  });

  test('DNS: configured zone gets one UPSERT per tenant, again only when the chosen agents change', async () => {
    const f = fakes();
    const handle = build(f, { VPN_HOSTED_ZONE_ID: 'Z0123456789ABC', VPN_DNS_DOMAIN: 'example.net' });
    await ts.store.createTenant({ tenantId: 'acme', name: 'Acme', authMethods: ['mschapv2'], createdAt: now });
    const first = await handle(SCHEDULE);
    assert.ok(first.kind === 'evaluation' && first.run.dns);
    const changes = f.calls.filter(([op]) => op === 'changeResourceRecordSets').map(([, input]) => input);
    assert.equal(changes.length, 1);
    assert.equal(changes[0].HostedZoneId, 'Z0123456789ABC');
    const acme = changes[0].ChangeBatch.Changes.find((c: any) => c.ResourceRecordSet.Name === 'acme.vpn.example.net');
    assert.ok(acme, JSON.stringify(changes[0]));
    assert.equal(acme.Action, 'UPSERT');
    assert.equal(acme.ResourceRecordSet.Type, 'A');
    // Only the registered, serving agent (i-0ccc...) remains: the drained one is dead.
    assert.deepEqual(acme.ResourceRecordSet.ResourceRecords, [{ Value: '203.0.113.33' }]);
    f.calls.length = 0;
    await handle(SCHEDULE);
    assert.equal(f.calls.filter(([op]) => op === 'changeResourceRecordSets').length, 0, 'unchanged placement: no UPSERT');
  });

  test('without a hosted zone nothing is published; a zone without a domain is a config error', async () => {
    const f = fakes();
    await build(f)(SCHEDULE);
    assert.equal(f.calls.filter(([op]) => op === 'changeResourceRecordSets').length, 0);
    assert.throws(() => build(f, { VPN_HOSTED_ZONE_ID: 'Z0123456789ABC' }), /VPN_HOSTED_ZONE_ID and VPN_DNS_DOMAIN/);
  });
});
