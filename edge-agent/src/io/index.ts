export * from './errors';
export * from './tun';
export * from './fake-tun';
export * from './link-config';
export * from './udp';
export * from './fake-udp';
