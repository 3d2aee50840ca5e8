/**
 * Database credentials from Secrets Manager, for the node probe and the SQL node actions. A secret
 * is read once and cached for `cacheSeconds` (a rotation is picked up within that time; a failed
 * login also drops the cache entry, see `forget`). The secret's JSON must hold the fields the
 * caller names; a missing one is a SecretFormatError naming the fields, never the values.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretFormatError } from '../domain/errors.ts';
import { rethrowAws } from './errors.ts';

/** What the probe and the SQL node actions log in with. */
export interface DbCredentials {
  readonly username: string;
  readonly password: string;
}

export interface SecretsPort {
  /** The secret's JSON object; throws SecretFormatError when it is not a JSON object. */
  getJson(secretArn: string): Promise<Readonly<Record<string, unknown>>>;
  /** Drops a cached secret (after an authentication failure: it may have been rotated). */
  forget(secretArn: string): void;
}

export interface SecretsManagerSecretsProps {
  /** @default - a new SecretsManagerClient with the default providers */
  readonly client?: SecretsManagerClient;
  /** @default 300 */
  readonly cacheSeconds?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

export class SecretsManagerSecrets implements SecretsPort {
  private readonly client: SecretsManagerClient;
  private readonly cacheMs: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, { value: Record<string, unknown>; until: number }>();

  constructor(props: SecretsManagerSecretsProps = {}) {
    this.client = props.client ?? new SecretsManagerClient({});
    this.cacheMs = (props.cacheSeconds ?? 300) * 1000;
    this.now = props.now ?? Date.now;
  }

  async getJson(secretArn: string): Promise<Readonly<Record<string, unknown>>> {
    const hit = this.cache.get(secretArn);
    if (hit && hit.until > this.now()) return hit.value;
    let text: string | undefined;
    try {
      const out = await this.client.send(new GetSecretValueCommand({ SecretId: secretArn }));
      text = out.SecretString;
    } catch (err) {
      rethrowAws('GetSecretValue', err);
    }
    const value = parseSecret(secretArn, text);
    this.cache.set(secretArn, { value, until: this.now() + this.cacheMs });
    return value;
  }

  forget(secretArn: string): void {
    this.cache.delete(secretArn);
  }
}

function parseSecret(secretArn: string, text: string | undefined): Record<string, unknown> {
  if (text === undefined)
    throw new SecretFormatError(secretArn, [], 'has no SecretString (binary secrets are not supported)');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SecretFormatError(secretArn, [], 'is not a JSON object');
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new SecretFormatError(secretArn, [], 'is not a JSON object');
  }
  return json as Record<string, unknown>;
}

/** `username` and `password` of a database secret (the shape RDS-managed secrets have). */
export function dbCredentials(secretArn: string, secret: Readonly<Record<string, unknown>>): DbCredentials {
  const missing = ['username', 'password'].filter((f) => typeof secret[f] !== 'string' || secret[f] === '');
  if (missing.length > 0) throw new SecretFormatError(secretArn, missing);
  return { username: secret.username as string, password: secret.password as string };
}

/** Reads a database secret and returns its credentials. */
export async function getDbCredentials(secrets: SecretsPort, secretArn: string): Promise<DbCredentials> {
  return dbCredentials(secretArn, await secrets.getJson(secretArn));
}
