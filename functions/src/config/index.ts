export { ConfigError, type ConfigProblem, type Env } from './parse-env';
export type { TableLocation } from './shared-keys';
export { parseBrokerConfig, type BrokerConfig } from './broker';
export { parseReaperConfig, type ReaperConfig } from './reaper';
export { parseAutoscalerConfig, parseScalingPolicy, type AutoscalerConfig } from './autoscaler';
export { parseAccountingFunctionConfig, parseAccountingSenderConfig, type AccountingFunctionConfig, type AccountingSenderConfig } from './radius-accounting';
