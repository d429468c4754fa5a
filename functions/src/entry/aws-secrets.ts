/**
 * In AWS the broker's secrets live in Secrets Manager; the CDK stack passes only their ARNs
 * (BROKER_ADMIN_TOKEN_SECRET_ARN, DATA_KEYS_SECRET_ARN). This turns them into the plain variables
 * parseBrokerConfig expects (BROKER_ADMIN_TOKEN, DATA_KEYS), once per cold start, so no secret is ever
 * in the function's configuration in clear. Locally the variables are set directly and nothing
 * is fetched.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** Reads one secret's string value. */
export type SecretReader = (secretId: string) => Promise<string>;

/** Secret-ARN variable -> the plain variable it fills, and how the secret's value maps to it. */
const SECRET_VARIABLES = [
  { arnVar: 'BROKER_ADMIN_TOKEN_SECRET_ARN', target: 'BROKER_ADMIN_TOKEN', toValue: (raw: string) => raw },
  { arnVar: 'DATA_KEYS_SECRET_ARN', target: 'DATA_KEYS', toValue: dataKeysValue },
] as const;

/**
 * The data-key secret is either the DATA_KEYS text itself (`keyId:base64,...`, how an operator
 * adds a key for rotation) or the JSON `{"keyId":"k1","key":"<43+ base64 chars>"}` that the CDK
 * stack generates (Secrets Manager generates characters, not bytes: 43 base64 characters decode
 * to 32 bytes).
 */
export function dataKeysValue(raw: string): string {
  const trimmed = raw.trim();
  if (!trimmed.startsWith('{')) return trimmed;
  const parsed = JSON.parse(trimmed) as { keyId?: unknown; key?: unknown };
  if (typeof parsed.keyId !== 'string' || typeof parsed.key !== 'string') {
    throw new Error('DATA_KEYS secret JSON must have string fields keyId and key');
  }
  return `${parsed.keyId}:${parsed.key}`;
}

/** Returns `env` with every *_SECRET_ARN variable resolved into its plain variable (set ones win). */
export async function resolveSecretEnv(
  env: Readonly<Record<string, string | undefined>>,
  read: SecretReader = secretsManagerReader(),
): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = { ...env };
  await Promise.all(
    SECRET_VARIABLES.map(async ({ arnVar, target, toValue }) => {
      const arn = env[arnVar];
      if (!arn || env[target]) return;
      out[target] = toValue(await read(arn));
    }),
  );
  return out;
}

/** Reader backed by Secrets Manager (credentials and region from the Lambda environment). */
export function secretsManagerReader(client = new SecretsManagerClient({})): SecretReader {
  return async (secretId) => {
    const result = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (result.SecretString === undefined) throw new Error(`secret ${secretId} has no string value`);
    return result.SecretString;
  };
}
