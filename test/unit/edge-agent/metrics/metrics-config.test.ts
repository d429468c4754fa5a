/** METRICS_LISTEN: loopback by default, `off` turns the endpoint off, anything else must be address:port. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_METRICS_LISTEN, helpText, loadAgentConfig, parseArgs } from '../../../../edge-agent/src/config';

const required = { BROKER_URL: 'http://127.0.0.1:8787', AGENT_ID: 'agent-1', AGENT_TOKEN: 'tba_0123456789' };

test('the metrics listen on loopback unless told otherwise', () => {
  assert.equal(DEFAULT_METRICS_LISTEN, '127.0.0.1:9469');
  assert.deepEqual(loadAgentConfig(parseArgs([]), required).metricsListen, { address: '127.0.0.1', port: 9469 });
  assert.match(helpText(), /--metrics-listen <value>\s+METRICS_LISTEN\s.*\(default 127\.0\.0\.1:9469\)/);
});

test('off, another address, and bad values', () => {
  assert.equal(loadAgentConfig(parseArgs([]), { ...required, METRICS_LISTEN: 'off' }).metricsListen, 'off');
  assert.deepEqual(loadAgentConfig(parseArgs(['--metrics-listen', '10.0.0.5:9100']), required).metricsListen, { address: '10.0.0.5', port: 9100 });
  assert.throws(() => loadAgentConfig(parseArgs([]), { ...required, METRICS_LISTEN: '9469' }), /--metrics-listen \/ METRICS_LISTEN/);
  assert.throws(() => loadAgentConfig(parseArgs([]), { ...required, METRICS_LISTEN: '127.0.0.1:70000' }), /--metrics-listen \/ METRICS_LISTEN/);
});
