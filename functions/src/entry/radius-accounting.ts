/**
 * The RADIUS accounting sender (domain/radius-accounting/sender.ts over the UDP client of
 * radius/accounting/): in AWS a scheduled Lambda drains the outbox every minute
 * (SCHEDULED_JOBS.radiusAccounting); in the local stack a pump drains it on the same interval and
 * whenever a session change kicks it. Configuration is parsed here, once, from the environment.
 */
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import pino from 'pino';
import { parseAccountingFunctionConfig, type AccountingSenderConfig } from '../config';
import { createSecretBox, staticKeyRing, type SecretBox } from '../domain/ppp-auth';
import { drainAccountingOutbox, type AccountingTransport, type DrainSummary } from '../domain/radius-accounting/sender';
import type { Store } from '../domain/store';
import { systemClock, type Clock, type DataKey } from '../domain/types';
import { RadiusAccountingClient } from '../radius/accounting/accounting-client';
import { connectDynamoStore } from '../store/dynamo';
import { resolveSecretEnv } from './aws-secrets';
import { loadKmsDataKeys, type DataKeyKms } from './kms-data-keys';

export interface AccountingSender {
  /** One pass over the due records. */
  drain(): Promise<DrainSummary>;
  close(): Promise<void>;
}

export interface AccountingSenderDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly secretBox: SecretBox;
  readonly config: AccountingSenderConfig;
  readonly log: pino.Logger;
  /** Defaults to RADIUS over UDP with the config's timeout and retries. */
  readonly transport?: AccountingTransport & { close?(): Promise<void> };
}

export function createAccountingSender(deps: AccountingSenderDeps): AccountingSender {
  const transport = deps.transport ?? new RadiusAccountingClient({ timeoutMs: deps.config.timeoutMs, retries: deps.config.retries });
  const { config } = deps;
  // A claim outlives the slowest delivery: every server of a tenant (at most 4) timing out every transmission.
  const claimMs = 4 * (config.retries + 1) * config.timeoutMs + 30_000;
  return {
    drain: () =>
      drainAccountingOutbox({ store: deps.store, clock: deps.clock, secretBox: deps.secretBox, log: deps.log }, transport, {
        batchSize: config.batchSize,
        baseBackoffMs: config.baseBackoffMs,
        maxBackoffMs: config.maxBackoffMs,
        claimMs,
      }),
    close: async () => transport.close?.(),
  };
}

export interface AccountingPump {
  /** Drain soon (coalesced: a kick during a pass runs one more pass after it). Never waits. */
  kick(): void;
  /** Stops the timer and waits for a pass under way. */
  stop(): Promise<void>;
}

/** Drains every `intervalMs` and on every kick; a failed pass is logged and the next one tries again. */
export function startAccountingPump(sender: AccountingSender, options: { readonly intervalMs: number; readonly log: pino.Logger }): AccountingPump {
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const pass = (): void => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = sender
      .drain()
      .then(
        (summary) => {
          if (summary.delivered + summary.deferred + summary.dropped > 0) options.log.info(summary, 'accounting pass');
        },
        (error: unknown) => options.log.warn({ err: error }, 'accounting pass failed; the next one retries'),
      )
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          pass();
        }
      });
  };
  const timer = setInterval(pass, options.intervalMs);
  timer.unref();
  return {
    kick: () => setImmediate(pass),
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

let cached: AccountingSender | undefined;

/** The scheduled Lambda: one pass per invocation. */
export const handler = async (): Promise<DrainSummary> => {
  cached ??= await senderFromEnv();
  return cached.drain();
};

async function senderFromEnv(): Promise<AccountingSender> {
  // DATA_KEYS may arrive as a Secrets Manager ARN (a deployment from before KMS): ./aws-secrets.
  const config = parseAccountingFunctionConfig(await resolveSecretEnv(process.env));
  const store = connectDynamoStore(config.table);
  const dataKeys: readonly DataKey[] = config.kmsKeyId
    ? await loadKmsDataKeys({ kms: kmsAdapter(new KMSClient(config.table.region ? { region: config.table.region } : {})), store, kmsKeyId: config.kmsKeyId, clock: systemClock, legacy: config.dataKeys })
    : config.dataKeys;
  const secretBox = createSecretBox(staticKeyRing({ currentKeyId: dataKeys[0]!.keyId, keys: Object.fromEntries(dataKeys.map((k) => [k.keyId, k.keyBase64])) }));
  return createAccountingSender({ store, clock: systemClock, secretBox, config: config.sender, log: pino({ name: 'radius-accounting', level: config.logLevel }) });
}

function kmsAdapter(kms: KMSClient): DataKeyKms {
  return {
    generateDataKey: (input) => kms.send(new GenerateDataKeyCommand(input)),
    decrypt: (input) => kms.send(new DecryptCommand(input)),
  };
}
