export { createInMemoryStore, type InMemoryStoreOptions } from './in-memory-store';
