export { connectScenarios } from './connect';
export { failureScenarios } from './failures';
export { natScenarios } from './nat';
export { nat1701Scenarios } from './nat-1701';
export type { E2eContext } from './context';
export { cloudNatScenarios } from './cloud-nat';
export { radiusScenarios } from './radius';
export { tcpDownloadScenarios } from './tcp-download';
export { tcpUploadScenarios } from './tcp-upload';
