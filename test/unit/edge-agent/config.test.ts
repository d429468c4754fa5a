import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, helpText, loadAgentConfig, parseArgs } from '../../../edge-agent/src/config';

const required = { BROKER_URL: 'http://127.0.0.1:8787/', AGENT_ID: 'agt-1', AGENT_TOKEN: 'tba_agt-1_secretsecret' };

test('environment variables and defaults produce a full config', () => {
  const config = loadAgentConfig(parseArgs([]), required);
  assert.equal(config.brokerUrl, 'http://127.0.0.1:8787');
  assert.deepEqual(config.l2tpListen, { address: '0.0.0.0', port: 1701 });
  assert.equal(config.ipsec, 'strongswan');
  assert.equal(config.viciSocket, '/var/run/charon.vici');
  assert.equal(config.mtu, 1400);
  assert.equal(config.allowPlainL2tp, false);
});

test('a flag wins over its environment variable, in both flag forms', () => {
  const config = loadAgentConfig(parseArgs(['--mtu', '1300', '--ipsec=off', '--l2tp-listen', '127.0.0.1:11701']), {
    ...required,
    MTU: '1500',
  });
  assert.equal(config.mtu, 1300);
  assert.equal(config.ipsec, 'off');
  assert.deepEqual(config.l2tpListen, { address: '127.0.0.1', port: 11701 });
});

test('missing and invalid settings are named by flag and variable', () => {
  assert.throws(
    () => loadAgentConfig(parseArgs([]), { BROKER_URL: 'http://x' }),
    (error: unknown) =>
      error instanceof ConfigError && /--agent-id \/ AGENT_ID is required/.test(error.message) && /AGENT_TOKEN/.test(error.message),
  );
  assert.throws(() => loadAgentConfig(parseArgs(['--mtu', '9000']), required), /--mtu \/ MTU/);
  assert.throws(() => loadAgentConfig(parseArgs(['--ipsec', 'racoon']), required), /--ipsec \/ IPSEC/);
});

test('unknown arguments and flags without values are refused', () => {
  assert.throws(() => parseArgs(['--nope']), /unknown argument --nope/);
  assert.throws(() => parseArgs(['--mtu']), /--mtu needs a value/);
});

test('--help lists every setting with its variable', () => {
  assert.equal(parseArgs(['--help']).help, true);
  const help = helpText();
  for (const name of ['BROKER_URL', 'AGENT_ID', 'AGENT_TOKEN', 'L2TP_LISTEN', 'PUBLIC_ADDRESS', 'TUN_NAME', 'IPSEC', 'VICI_SOCKET']) {
    assert.match(help, new RegExp(name));
  }
});

test('interim interval: 60 s by default, settable by flag or variable, 0 turns it off, negative refused', () => {
  assert.equal(loadAgentConfig(parseArgs([]), required).interimIntervalSeconds, 60);
  assert.equal(loadAgentConfig(parseArgs(['--interim-interval-seconds', '2']), required).interimIntervalSeconds, 2);
  assert.equal(loadAgentConfig(parseArgs([]), { ...required, INTERIM_INTERVAL_SECONDS: '0' }).interimIntervalSeconds, 0);
  assert.throws(() => loadAgentConfig(parseArgs(['--interim-interval-seconds=-1']), required), /--interim-interval-seconds \/ INTERIM_INTERVAL_SECONDS/);
  assert.throws(() => loadAgentConfig(parseArgs(['--interim-interval-seconds=1.5']), required), /INTERIM_INTERVAL_SECONDS/);
  assert.match(helpText(), /--interim-interval-seconds <value>\s+INTERIM_INTERVAL_SECONDS.*\(default 60\)/);
});

test('broker requests in flight: 128 by default, settable, at least 1', () => {
  assert.equal(loadAgentConfig(parseArgs([]), required).brokerMaxInFlight, 128);
  assert.equal(loadAgentConfig(parseArgs([]), { ...required, BROKER_MAX_IN_FLIGHT: '32' }).brokerMaxInFlight, 32);
  assert.throws(() => loadAgentConfig(parseArgs(['--broker-max-in-flight=0']), required), /BROKER_MAX_IN_FLIGHT/);
  assert.match(helpText(), /--broker-max-in-flight <value>\s+BROKER_MAX_IN_FLIGHT.*\(default 128\)/);
});

describe('issue 14 finding 10: the credential stays off the command line', () => {
  const tokenFile = (t: { after(fn: () => void): void }, content: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-token-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'token');
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };
  const { AGENT_TOKEN: _token, ...withoutToken } = required;

  test('AGENT_TOKEN_FILE / --agent-token-file reads the token from a file (trailing newline trimmed)', (t) => {
    const path = tokenFile(t, 'tba_agt-1_fromthefile\n');
    assert.equal(loadAgentConfig(parseArgs([]), { ...withoutToken, AGENT_TOKEN_FILE: path }).agentToken, 'tba_agt-1_fromthefile');
    assert.equal(loadAgentConfig(parseArgs(['--agent-token-file', path]), withoutToken).agentToken, 'tba_agt-1_fromthefile');
  });

  test('token and token file together, an unreadable file, an empty file: each a clear error', (t) => {
    const path = tokenFile(t, 'tba_agt-1_fromthefile');
    assert.throws(() => loadAgentConfig(parseArgs([]), { ...required, AGENT_TOKEN_FILE: path }), /not both/);
    assert.throws(() => loadAgentConfig(parseArgs([]), { ...withoutToken, AGENT_TOKEN_FILE: `${path}.missing` }), /AGENT_TOKEN_FILE .*token\.missing cannot be read: ENOENT/);
    const empty = tokenFile(t, '\n');
    assert.throws(() => loadAgentConfig(parseArgs([]), { ...withoutToken, AGENT_TOKEN_FILE: empty }), /the file .* does not hold a credential/);
  });

  test('--help says the token belongs in the environment or the file, not the command line', () => {
    const help = helpText();
    assert.match(help, /--agent-token-file <value>\s+AGENT_TOKEN_FILE/);
    assert.match(help, /never on the command line/);
    assert.match(help, /\/proc\/<pid>\/cmdline/);
  });
});

test('HOST_NETWORKS: comma-separated strict CIDRs, empty by default', () => {
  assert.deepEqual(loadAgentConfig(parseArgs([]), required).hostNetworks, []);
  assert.deepEqual(loadAgentConfig(parseArgs([]), { ...required, HOST_NETWORKS: '172.31.0.0/16, 10.0.0.0/8' }).hostNetworks, ['172.31.0.0/16', '10.0.0.0/8']);
  assert.throws(() => loadAgentConfig(parseArgs(['--host-networks', '172.31.0.1/16']), required), /--host-networks \/ HOST_NETWORKS/);
});

test('CLOUD_NAT: auto by default, on/off accepted, anything else named; CLOUD_NAT_IPTABLES is a program name', () => {
  const config = loadAgentConfig(parseArgs([]), required);
  assert.equal(config.cloudNat, 'auto');
  assert.equal(config.cloudNatIptables, 'iptables');
  assert.equal(loadAgentConfig(parseArgs(['--cloud-nat', 'off']), required).cloudNat, 'off');
  assert.equal(loadAgentConfig(parseArgs([]), { ...required, CLOUD_NAT: 'on', CLOUD_NAT_IPTABLES: 'iptables-legacy' }).cloudNatIptables, 'iptables-legacy');
  assert.throws(() => loadAgentConfig(parseArgs([]), { ...required, CLOUD_NAT: 'yes' }), /--cloud-nat \/ CLOUD_NAT/);
  assert.throws(() => loadAgentConfig(parseArgs([]), { ...required, CLOUD_NAT_IPTABLES: 'iptables; rm -rf /' }), /CLOUD_NAT_IPTABLES/);
});

test('TUN_OFFLOAD: auto by default, off accepted, anything else named', () => {
  assert.equal(loadAgentConfig(parseArgs([]), required).tunOffload, 'auto');
  assert.equal(loadAgentConfig(parseArgs(['--tun-offload', 'off']), required).tunOffload, 'off');
  assert.equal(loadAgentConfig(parseArgs([]), { ...required, TUN_OFFLOAD: 'off' }).tunOffload, 'off');
  assert.throws(() => loadAgentConfig(parseArgs([]), { ...required, TUN_OFFLOAD: 'on' }), /--tun-offload \/ TUN_OFFLOAD/);
});

test('UDP_GSO: auto by default, off accepted, anything else named', () => {
  assert.equal(loadAgentConfig(parseArgs([]), required).udpGso, 'auto');
  assert.equal(loadAgentConfig(parseArgs(['--udp-gso', 'off']), required).udpGso, 'off');
  assert.equal(loadAgentConfig(parseArgs([]), { ...required, UDP_GSO: 'off' }).udpGso, 'off');
  assert.throws(() => loadAgentConfig(parseArgs([]), { ...required, UDP_GSO: 'yes' }), /--udp-gso \/ UDP_GSO/);
});
