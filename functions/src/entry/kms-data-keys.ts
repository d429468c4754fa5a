/**
 * The broker's data keys in AWS: envelope encryption under the stack's customer-managed KMS key
 * (infra: DataKey, rotation on). A data key is 32 random bytes made by KMS GenerateDataKey; the
 * table keeps only its wrapped form (the CiphertextBlob, item FLEET / DATAKEY#<id>), and each cold
 * start unwraps it with KMS Decrypt. The plaintext exists only in the function's memory; reading the
 * table (a backup, an export, a stolen item) without kms:Decrypt on that key opens nothing.
 *
 * The first instance to start makes the key; a conditional put decides a race, and the loser
 * unwraps the winner's. Every Decrypt and GenerateDataKey names the encryption context
 * {service: tunnel-broker, purpose: data-key, keyId}, which the function's IAM policy requires,
 * so the role cannot be used to unwrap anything else with that KMS key, and CloudTrail shows which
 * data key each call was for.
 *
 * Keys from DATA_KEYS (a deployment from before KMS: the Secrets Manager secret) are kept after the
 * KMS ones, so blobs they sealed still open; new blobs are sealed with the KMS one. Locally
 * (no DATA_KEY_KMS_KEY_ID) nothing here runs: DATA_KEYS is the key ring, from the local stack's file.
 */
import type { Clock, DataKey, WrappedDataKey } from '../domain/types';
import type { Store } from '../domain/store';

/** The two KMS calls the broker makes (the SDK's KMSClient adapts to it; tests pass a fake). */
export interface DataKeyKms {
  generateDataKey(input: { KeyId: string; KeySpec: 'AES_256'; EncryptionContext: Record<string, string> }): Promise<{ Plaintext?: Uint8Array; CiphertextBlob?: Uint8Array }>;
  decrypt(input: { KeyId: string; CiphertextBlob: Uint8Array; EncryptionContext: Record<string, string> }): Promise<{ Plaintext?: Uint8Array }>;
}

/** The id of the first KMS-made data key. */
export const FIRST_KMS_KEY_ID = 'kms1';

/** The encryption context of a data key: IAM conditions on `service`, CloudTrail shows the rest. */
export function dataKeyContext(keyId: string): Record<string, string> {
  return { service: 'tunnel-broker', purpose: 'data-key', keyId };
}

export interface KmsDataKeysInput {
  readonly kms: DataKeyKms;
  readonly store: Pick<Store, 'listWrappedDataKeys' | 'putWrappedDataKey'>;
  /** ARN (or id/alias) of the customer-managed key. */
  readonly kmsKeyId: string;
  readonly clock: Clock;
  /** DATA_KEYS, if any: kept after the KMS keys, to open what they sealed. */
  readonly legacy?: readonly DataKey[];
}

/**
 * The key ring for the app: the newest KMS data key first (it seals), then older KMS keys and the
 * legacy ones (they only open). Makes the first KMS data key when the table has none.
 */
export async function loadKmsDataKeys(input: KmsDataKeysInput): Promise<DataKey[]> {
  let wrapped = await input.store.listWrappedDataKeys();
  if (wrapped.length === 0) {
    const made = await input.kms.generateDataKey({ KeyId: input.kmsKeyId, KeySpec: 'AES_256', EncryptionContext: dataKeyContext(FIRST_KMS_KEY_ID) });
    if (!made.CiphertextBlob) throw new Error('KMS GenerateDataKey returned no CiphertextBlob');
    const record: WrappedDataKey = {
      keyId: FIRST_KMS_KEY_ID,
      kmsKeyId: input.kmsKeyId,
      ciphertext: Buffer.from(made.CiphertextBlob).toString('base64'),
      createdAt: input.clock.now(),
    };
    // Lost the race: another instance's key is the one; ours is dropped unused.
    wrapped = (await input.store.putWrappedDataKey(record)) ? [record] : await input.store.listWrappedDataKeys();
  }
  const unwrapped = await Promise.all(
    wrapped.map(async (w): Promise<DataKey> => {
      const out = await input.kms.decrypt({ KeyId: w.kmsKeyId, CiphertextBlob: Buffer.from(w.ciphertext, 'base64'), EncryptionContext: dataKeyContext(w.keyId) });
      if (out.Plaintext?.length !== 32) throw new Error(`KMS Decrypt of data key ${w.keyId} did not give 32 bytes`);
      return { keyId: w.keyId, keyBase64: Buffer.from(out.Plaintext).toString('base64') };
    }),
  );
  const kmsIds = new Set(unwrapped.map((k) => k.keyId));
  return [...unwrapped.reverse(), ...(input.legacy ?? []).filter((k) => !kmsIds.has(k.keyId))];
}
