/** L2TPv2 (RFC 2661): pure codecs and state machines for the edge agent. */
export * from './errors';
export * from './constants';
export * from './header';
export * from './data';
export * from './hidden';
export * from './avp';
export * from './avp-catalog';
export * from './message-rules';
export * from './message';
export * from './auth';
export * from './sequence';
export * from './reliable';
export * from './tunnel-types';
export { createTunnel, stepTunnel, isTunnelDone } from './tunnel';
export * from './routing';
