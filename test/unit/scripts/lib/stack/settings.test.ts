import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStackSettings, SettingsError, STACK_ENV, stackHelpText, type StackSettings } from '../../../../../scripts/lib/stack/settings';

const parse = (argv: string[], env: Record<string, string> = {}) => parseStackSettings(argv, env) as StackSettings;

test('defaults: loopback everywhere, the AWS intervals, IPsec off', () => {
  const s = parse([]);
  assert.equal(s.host, '127.0.0.1');
  assert.equal(s.port, 8787);
  assert.equal(s.agentL2tpListen, '127.0.0.1:1701');
  assert.equal(s.agentTunName, 'tbr0');
  assert.equal(s.dynamodbIsolation, true);
  assert.equal(s.reaperIntervalMs, 60_000);
  assert.equal(s.autoscalerIntervalMs, 60_000);
  assert.equal(s.ipsec, false);
  assert.equal(s.autoscaleActions, true);
});

test('flags and environment; --ipsec listens for L2TP on every interface unless told otherwise', () => {
  const s = parse(['--no-agent', '--no-autoscale', '--in-memory', '--ipsec'], { PORT: '8797', AGENT_TUN_NAME: 'tbr1', REAPER_INTERVAL_SECONDS: '2' });
  assert.deepEqual([s.agent, s.autoscaleActions, s.inMemory, s.ipsec], [false, false, true, true]);
  assert.equal(s.port, 8797);
  assert.equal(s.agentTunName, 'tbr1');
  assert.equal(s.reaperIntervalMs, 2_000);
  assert.equal(s.agentL2tpListen, '0.0.0.0:1701');
  assert.equal(parse(['--ipsec'], { AGENT_L2TP_LISTEN: '127.0.0.1:1702' }).agentL2tpListen, '127.0.0.1:1702');
});

test('bad values and unknown flags name what is wrong', () => {
  assert.throws(() => parse(['--no-agnet']), (e: Error) => e instanceof SettingsError && /--no-agnet/.test(e.message));
  assert.throws(() => parse([], { PORT: '70000' }), /PORT/);
  assert.throws(() => parse([], { AGENT_TUN_NAME: 'a-name-longer-than-15' }), /AGENT_TUN_NAME/);
  assert.throws(() => parse([], { AGENT_L2TP_LISTEN: 'localhost' }), /AGENT_L2TP_LISTEN/);
  assert.equal(parseStackSettings(['--help'], {}), 'help');
});

test('--help lists every setting that can collide, with its default', () => {
  const help = stackHelpText();
  for (const setting of Object.values(STACK_ENV)) assert.ok(help.includes(setting.env), setting.env);
  for (const flag of ['--in-memory', '--no-agent', '--no-autoscale', '--ipsec']) assert.ok(help.includes(flag), flag);
  assert.match(help, /tbl-<pid>/);
  assert.match(help, /10\.231\.<n>\.0\/30/);
});
