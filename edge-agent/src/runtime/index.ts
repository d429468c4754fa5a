export * from '../clock';
export * from './rate-limit';
export * from './data-path';
export * from './tunnels';
export * from './session-runner';
export * from './broker-loop';
export * from './agent';
export * from './launch';
