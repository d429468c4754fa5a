/**
 * The CLI's command tree (cli/src/program.ts): `--help` for every command, usage errors exit 2
 * before anything is sent, options parse to the bodies the API takes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from 'commander';
import { buildProgram, commandPaths } from '../../../cli/src/program';
import { tenantBody } from '../../../cli/src/commands/tenants';
import { sessionsQuery } from '../../../cli/src/commands/sessions';
import { authMethodsArg, excludeArg, intArg, limitArg, secondsArg } from '../../../cli/src/parse-args';
import { runCliCaptured } from '../../support/cli-run';

const EXPECTED_COMMANDS = [
  'tenants list', 'tenants create', 'tenants show', 'tenants update', 'tenants delete',
  'pools list', 'pools create', 'pools update', 'pools delete',
  'users list', 'users show', 'users create', 'users password', 'users lock', 'users unlock', 'users delete', 'users import',
  'sessions list', 'sessions show', 'sessions disconnect',
  'agents list', 'agents drain', 'agents revoke',
  'api-keys list', 'api-keys create', 'api-keys revoke',
  'psk show', 'psk set',
];

const noClient = { io: {} as never, client: () => assert.fail('no command may reach the broker here') };

describe('CLI command tree', () => {
  test('has exactly the documented commands', () => {
    assert.deepEqual(commandPaths(buildProgram(noClient)).map((p) => p.join(' ')).sort(), [...EXPECTED_COMMANDS].sort());
  });

  test('--help works for the program, every group and every command, without any configuration, exit 0', async () => {
    const groups = [...new Set(EXPECTED_COMMANDS.map((c) => c.split(' ')[0]!))];
    for (const words of [[], ...groups.map((g) => [g]), ...EXPECTED_COMMANDS.map((c) => c.split(' '))]) {
      const run = await runCliCaptured([...words, '--help']);
      assert.equal(run.code, 0, `${words.join(' ')} --help: ${run.stderr}`);
      assert.match(run.stdout, new RegExp(`^Usage: tunnel-broker${words.length ? ` ${words.join(' ')}` : ''} `), words.join(' '));
    }
    const top = await runCliCaptured(['--help']);
    assert.match(top.stdout, /Exit codes: 0 ok, 1 .*, 2 usage error, 3 cannot reach the broker/);
  });

  test('usage errors exit 2 with a message, before any configuration is read', async () => {
    for (const argv of [
      ['bogus'],
      ['users'],
      ['users', 'list'],
      ['tenants', 'create', 'acme'],
      ['tenants', 'create', 'acme', '--name', 'Acme', '--max-sessions', 'ten'],
      ['tenants', 'create', 'acme', '--name', 'Acme', '--auth-methods', 'telnet'],
      ['sessions', 'list', '--state', 'sleeping'],
      ['api-keys', 'create', '--name', 'x', '--scope', 'galaxy'],
      ['agents', 'drain', 'agent-1', '--deadline', '-5'],
      ['tenants', 'list', '--token', 'tbk_x_y'],
    ]) {
      const run = await runCliCaptured(argv);
      assert.equal(run.code, 2, `${argv.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, argv.length === 1 && argv[0] === 'users' ? /^Usage: tunnel-broker users/ : /error:/, argv.join(' '));
    }
  });

  test('a command that needs the broker without configuration exits 4 and says what to set', async () => {
    const run = await runCliCaptured(['tenants', 'list']);
    assert.equal(run.code, 4);
    assert.match(run.stderr, /error: no broker URL/);
    assert.match(run.stderr, /hint: export BROKER_URL=/);
  });

  test('checks made by the CLI itself are usage errors (exit 2): nothing to update, a tenant key without a tenant', async () => {
    const env = { BROKER_URL: 'http://127.0.0.1:9', TUNNEL_BROKER_TOKEN: 't' };
    assert.equal((await runCliCaptured(['tenants', 'update', 'acme'], { env })).code, 2);
    assert.equal((await runCliCaptured(['pools', 'update', 'main', '-t', 'acme'], { env })).code, 2);
    assert.equal((await runCliCaptured(['api-keys', 'create', '--name', 'k', '--scope', 'tenant'], { env })).code, 2);
    assert.equal((await runCliCaptured(['users', 'import', '/no/such.csv', '-t', 'acme'], { env })).code, 2);
  });

  test('options parse to the API\'s fields', () => {
    assert.deepEqual(tenantBody({ name: 'Acme', maxSessions: 'none', minPasswordLength: 12, rejectUsername: false }), {
      name: 'Acme',
      maxSessions: null,
      passwordPolicy: { minLength: 12, rejectUsername: false },
    });
    assert.deepEqual(tenantBody({}), {});
    assert.deepEqual(sessionsQuery({ tenant: 'acme', user: 'alice', state: 'active', interval: 2 }), {
      tenantId: 'acme', username: 'alice', agentId: undefined, state: 'active', since: undefined, until: undefined,
    });
    assert.equal(intArg('42'), 42);
    assert.equal(limitArg('none'), 'none');
    assert.equal(secondsArg('0.5'), 0.5);
    assert.deepEqual(authMethodsArg('mschapv2, pap'), ['mschapv2', 'pap']);
    assert.deepEqual(excludeArg('10.0.0.1-10.0.0.9,10.0.0.20'), [{ first: '10.0.0.1', last: '10.0.0.9' }, { first: '10.0.0.20', last: '10.0.0.20' }]);
    for (const [fn, bad] of [[intArg, '1.5'], [intArg, '-1'], [secondsArg, 'soon'], [excludeArg, 'a-b-c'], [authMethodsArg, 'pap,ssh']] as const) {
      assert.throws(() => (fn as (v: string) => unknown)(bad), InvalidArgumentError, `${fn.name}(${bad})`);
    }
  });
});
