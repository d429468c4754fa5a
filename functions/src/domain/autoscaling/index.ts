export * from './policy';
export * from './decide';
export * from './provider';
export * from './aws-provider';
export * from './apply-actions';
export * from './local-provider';
export * from './fleet-lifecycle';
export * from './fleet-metrics';
