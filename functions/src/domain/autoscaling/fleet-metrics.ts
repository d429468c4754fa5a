import { FLEET_METRICS } from '../../../../contract/src/fleet-metrics';
import type { ScalingSummary } from './decide';

/**
 * The fleet metrics the alarms and dashboards watch, as one CloudWatch embedded-metric-format
 * record: logged as a JSON line by the autoscaler, CloudWatch turns it into metrics (no
 * PutMetricData call or permission). Names come from the same table the CDK alarms use.
 */
export function fleetMetricsRecord(summary: ScalingSummary, now: number, namespace: string = FLEET_METRICS.namespace) {
  const values = {
    [FLEET_METRICS.activeSessions]: summary.sessions,
    [FLEET_METRICS.utilization]: summary.utilization,
    [FLEET_METRICS.healthyAgents]: summary.serving,
    [FLEET_METRICS.desiredAgents]: summary.desired,
  };
  return {
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [[]],
          Metrics: Object.keys(values).map((Name) => ({ Name, Unit: Name === FLEET_METRICS.utilization ? 'None' : 'Count' })),
        },
      ],
    },
    ...values,
  };
}
