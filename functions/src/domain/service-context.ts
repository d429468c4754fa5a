import type { BrokerConfig } from '../config';
import type { Store } from '../store/store';
import type { AuthGrants } from './auth-grant';
import type { SecretBox } from './ppp-auth';
import type { RandomBytes } from './bearer-tokens';
import type { Clock } from './types';

/** What every broker domain service needs; built once per app (container). */
export interface ServiceContext {
  readonly store: Store;
  readonly clock: Clock;
  readonly random: RandomBytes;
  readonly secretBox: SecretBox;
  /** Signs and checks the grants authentication hands to the session start. */
  readonly grants: AuthGrants;
  readonly config: BrokerConfig;
}
