import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { Problems } from './errors';
import { FLEET_METRICS } from '../../contract/src/fleet-metrics';

export interface BrokerAlarmsProps {
  readonly api: apigw.HttpApi;
  /** Functions whose errors and throttles page the operator, by a short name. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** The edge fleet's group, when the fleet is deployed. @default - no fleet alarms */
  readonly fleet?: autoscaling.AutoScalingGroup;
  /** SNS topic that receives alarm and OK notifications. @default - alarms without actions */
  readonly alarmTopicArn?: string;
  /** Fleet utilization above which an operator is warned (the autoscaler should act before). @default 0.85 */
  readonly utilizationAlarmThreshold?: number;
}

/** Alarms an operator wants: API 5xx, function errors/throttles, fleet saturation and no healthy agent. */
export class BrokerAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: BrokerAlarmsProps) {
    super(scope, id);
    const threshold = props.utilizationAlarmThreshold ?? 0.85;
    const problems = new Problems();
    problems.check(!(threshold > 0 && threshold <= 1), `utilizationAlarmThreshold ${threshold} must be in (0, 1]`);
    problems.check(
      props.alarmTopicArn !== undefined && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/.test(props.alarmTopicArn),
      `alarmTopicArn "${props.alarmTopicArn}" must be an SNS topic ARN`,
    );
    problems.throwIfAny(`BrokerAlarms ${id}`);

    const five = Duration.minutes(5);
    this.add('Api5xx', {
      metric: props.api.metricServerError({ period: five, statistic: 'Sum' }),
      threshold: 5,
      evaluationPeriods: 1,
      alarmDescription: 'The broker API answered 5xx more than 5 times in 5 minutes',
    });
    for (const [name, fn] of Object.entries(props.functions)) {
      this.add(`${name}Errors`, {
        metric: fn.metricErrors({ period: five, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        alarmDescription: `The ${name} function failed in the last 5 minutes`,
      });
      this.add(`${name}Throttles`, {
        metric: fn.metricThrottles({ period: five, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        alarmDescription: `The ${name} function was throttled in the last 5 minutes`,
      });
    }
    if (props.fleet) {
      const fleetMetric = (metricName: string, statistic: string) =>
        new cloudwatch.Metric({ namespace: FLEET_METRICS.namespace, metricName, period: Duration.minutes(1), statistic });
      this.add('FleetSaturated', {
        metric: fleetMetric(FLEET_METRICS.utilization, 'Maximum'),
        threshold,
        evaluationPeriods: 5,
        alarmDescription: `Fleet utilization above ${threshold} for 5 minutes: scaling is not keeping up (or maxAgents reached)`,
      });
      this.add('NoHealthyAgent', {
        metric: fleetMetric(FLEET_METRICS.healthyAgents, 'Minimum'),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 3,
        // No data means the autoscaler stopped reporting: as bad as no agent.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        alarmDescription: 'No healthy edge agent for 3 minutes: new tunnels cannot be placed',
      });
    }
    if (props.alarmTopicArn) {
      const topic = sns.Topic.fromTopicArn(this, 'Topic', props.alarmTopicArn);
      for (const alarm of this.alarms) {
        alarm.addAlarmAction(new actions.SnsAction(topic));
        alarm.addOkAction(new actions.SnsAction(topic));
      }
    }
  }

  private add(id: string, props: Omit<cloudwatch.AlarmProps, 'comparisonOperator' | 'treatMissingData'> &
    Partial<Pick<cloudwatch.AlarmProps, 'comparisonOperator' | 'treatMissingData'>>): void {
    this.alarms.push(
      new cloudwatch.Alarm(this, id, {
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...props,
      }),
    );
  }
}
