import type { Store } from '../../../functions/src/domain/store';
import type { Clock } from '../../../functions/src/domain/types';

/** A store the contract runs against, fresh and empty. */
export interface StoreUnderTest {
  readonly store: Store;
  close(): Promise<void>;
}

/** Opens a fresh store whose TTLs follow `clock`. */
export type OpenStore = (options: { readonly clock: Clock }) => Promise<StoreUnderTest>;
