export * from './parsed-pool';
export * from './lease-rule';
export * from './pool-addresses';
export * from './errors';
export * from './start-session';
export * from './lease-hints';
