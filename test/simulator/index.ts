/** L2TP/PPP client simulator: many LACs with dial-up users against an LNS, for e2e tests and benchmarks. */
export * from './types';
export * from './open-tunnels';
export { SimSession, type SessionPhase } from './sim-session';
export { SimTunnel } from './sim-tunnel';
export { SimEndpoint } from './sim-endpoint';
