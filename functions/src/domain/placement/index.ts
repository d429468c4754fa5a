export * from './eligibility';
export * from './choose-agents';
export * from './admission';
export * from './tenant-endpoint';
export * from './dns-records';
export * from './route53-publisher';
