// The crypto both sides compute (MS-CHAPv2, CHAP-MD5, the NT hash) is the contract's:
// contract/src/ppp-auth. What is here only the broker does.
export * from './errors';
export * from './pap';
export * from './secret-box';
export * from './credentials';
export * from './username';
export * from './canonical-name';
