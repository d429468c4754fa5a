export * from './address';
export * from './checksum';
export * from './ipv4';
export * from './anti-spoof';
export * from './route-table';
export * from './mss-clamp';
export * from './counters';
export * from './icmp';
