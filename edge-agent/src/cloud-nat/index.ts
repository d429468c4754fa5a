export * from './plan';
export * from './host';
