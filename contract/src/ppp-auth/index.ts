export * from './errors';
export { constantTimeEqual } from './bytes';
export { ntPasswordHash, hashNtPasswordHash } from './nt-hash';
export { desEncryptBlock, expandDesKey } from './des';
export * from './mschapv2';
export * from './chap-md5';
