export * from './agent-metrics';
export * from './instrument-broker';
export * from './metrics-server';
