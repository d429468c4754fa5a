/** The Store contract on the in-memory store the domain's unit tests use (functions/src/store/memory). */
import { createInMemoryStore } from '../../../../../functions/src/store/memory';
import { storeContract } from '../../../../support/store-contract';

storeContract('in memory', async ({ clock }) => ({ store: createInMemoryStore({ clock }), close: async () => {} }));
