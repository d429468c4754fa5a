export * from './errors';
export * from './message-codec';
export * from './packet-codec';
export * from './framer';
export * from './client';
export * from './messages';
export * from './commands';
