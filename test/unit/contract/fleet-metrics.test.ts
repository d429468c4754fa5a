import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fleetMetricsRecord } from '../../../functions/src/domain/autoscaling';
import { FLEET_METRICS } from '../../../contract/src/fleet-metrics';

test('the autoscaler\'s metrics line is embedded metric format under the names the alarms watch', () => {
  const record = fleetMetricsRecord({ serving: 3, draining: 1, sessions: 120, utilization: 0.4, desired: 4, decision: 'hold' }, 1_700_000_000_000);
  const [directive] = record._aws.CloudWatchMetrics;
  assert.equal(directive?.Namespace, FLEET_METRICS.namespace);
  assert.deepEqual(directive?.Dimensions, [[]]);
  const names = directive?.Metrics.map((m) => m.Name).sort();
  assert.deepEqual(names, [FLEET_METRICS.activeSessions, FLEET_METRICS.desiredAgents, FLEET_METRICS.healthyAgents, FLEET_METRICS.utilization].sort());
  // The alarms read FleetUtilization (max) and HealthyAgents (min): both are present with values.
  assert.equal(record[FLEET_METRICS.utilization], 0.4);
  assert.equal(record[FLEET_METRICS.healthyAgents], 3);
  assert.equal(record[FLEET_METRICS.activeSessions], 120);
  assert.equal(record._aws.Timestamp, 1_700_000_000_000);
});
