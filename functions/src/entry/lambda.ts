/**
 * AWS Lambda entry point: the only place (with the local server script) that reads process.env.
 * The app and its DynamoDB client are built once per container and reused across invocations; the
 * data keys are unwrapped with KMS once per cold start (./kms-data-keys).
 */
import { KMSClient, DecryptCommand, GenerateDataKeyCommand } from '@aws-sdk/client-kms';
import { handle } from 'hono/aws-lambda';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { createApp } from '../app';
import { parseBrokerConfig } from '../config';
import { resolveSecretEnv } from './aws-secrets';
import { loadKmsDataKeys, type DataKeyKms } from './kms-data-keys';
import { systemClock } from '../domain/types';
import { connectDynamoStore } from '../store/dynamo';
import { readConsoleAssets } from '../io/console-assets';

// In AWS the admin token and data keys arrive as Secrets Manager ARNs (see ./aws-secrets).
const config = parseBrokerConfig(await resolveSecretEnv(process.env));
const logger = pino({ level: config.logLevel });
const store = connectDynamoStore(config.table);
const dataKeys = config.kmsKeyId
  ? await loadKmsDataKeys({ kms: kmsAdapter(new KMSClient(config.table.region ? { region: config.table.region } : {})), store, kmsKeyId: config.kmsKeyId, clock: systemClock, legacy: config.dataKeys })
  : config.dataKeys;
// The console's files sit beside the bundle (scripts/build-bundles.ts puts them in console/):
// read once per container, served from memory.
const consoleAssets = readConsoleAssets(fileURLToPath(new URL('./console/', import.meta.url)));
if (!consoleAssets) logger.warn('no console/ folder beside the bundle: /console answers 404');
const app = createApp({ store, clock: systemClock, logger, config: { ...config, dataKeys }, ...(consoleAssets ? { consoleAssets } : {}) });

export const handler = handle(app);

function kmsAdapter(kms: KMSClient): DataKeyKms {
  return {
    generateDataKey: (input) => kms.send(new GenerateDataKeyCommand(input)),
    decrypt: (input) => kms.send(new DecryptCommand(input)),
  };
}
