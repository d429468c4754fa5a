export { connectScenarios } from './connect';
export { failureScenarios } from './failures';
export { natScenarios } from './nat';
export type { E2eContext } from './context';
export { cloudNatScenarios } from './cloud-nat';
