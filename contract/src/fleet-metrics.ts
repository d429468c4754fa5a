/**
 * Custom CloudWatch metrics the autoscaling decision works from, and that the alarms watch.
 * Plain data (no CDK imports) so the autoscaler function can publish them under the same names,
 * e.g. as CloudWatch embedded-metric-format log lines (no PutMetricData permission needed).
 */
export const FLEET_METRICS = {
  namespace: 'TunnelBroker',
  /** Sessions in state active across the fleet. */
  activeSessions: 'ActiveSessions',
  /** Sum of `capacity` over active (non-draining, non-dead) agents. */
  sessionCapacity: 'SessionCapacity',
  /** activeSessions / sessionCapacity, 0..1 (the target-utilization policy's input). */
  utilization: 'FleetUtilization',
  /** Agents in state active with a recent heartbeat. */
  healthyAgents: 'HealthyAgents',
  /** Agents the autoscaler wants (what it sets as the group's desired capacity). */
  desiredAgents: 'DesiredAgents',
} as const;
