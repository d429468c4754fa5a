export * from './errors';
export * from './proposals';
export * from './conn-config';
export * from './traffic-selector';
export * from './sa-table';
export * from './controller';
