import type { BrokerConfig } from '../config';
import type { Store } from '../store/store';
import type { AuthGrants } from './auth-grant';
import type { PageCursors } from './page-cursors';
import type { SecretBox } from './ppp-auth';
import type { RandomBytes } from './bearer-tokens';
import type { LeaseHints } from './ip-allocation/lease-hints';
import type { Clock } from './types';

/** What every broker domain service needs; built once per app (container). */
export interface ServiceContext {
  readonly store: Store;
  readonly clock: Clock;
  readonly random: RandomBytes;
  readonly secretBox: SecretBox;
  /** Signs and checks the grants authentication hands to the session start. */
  readonly grants: AuthGrants;
  /** Signs the page cursors listings hand out, and checks the ones they are given. */
  readonly cursors: PageCursors;
  readonly config: BrokerConfig;
  /** Addresses this process saw leased, so its random address probes skip them (a hint only). */
  readonly leaseHints?: LeaseHints;
}
