export * from './eligibility';
export * from './choose-agents';
export * from './admission';
