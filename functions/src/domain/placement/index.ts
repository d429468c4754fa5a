export * from './eligibility';
export * from './choose-agents';
export * from './admission';
export * from './tenant-endpoint';
