// Splits what callers store into clear metadata and the secret part that gets encrypted, and joins
// them back. The split is an allowlist of clear fields: anything not known to be harmless is secret.
import { inspect } from 'node:util';
import { VaultError } from '../errors.js';
import type { Binding, ClientCredentials, ConnectionMeta, ConnectionRecord, TokenSet } from './types.js';

type Json = Record<string, unknown>;

const CLEAR_TOKEN_FIELDS = ['token_type', 'expires_at', 'scopes'] as const;
/** Key of the binding inside a connection's encrypted JSON (no token field is named so). */
const BINDING_FIELD = 'keygate_binding';

export interface Split<M> {
  meta: M;
  secret: Json;
}

export function splitConnection(record: ConnectionRecord): Split<ConnectionMeta> {
  const { tokens, binding, ...rest } = record;
  const clear: Json = {};
  const secret: Json = {};
  for (const [field, value] of Object.entries(tokens)) {
    if ((CLEAR_TOKEN_FIELDS as readonly string[]).includes(field)) clear[field] = value;
    else secret[field] = value;
  }
  clear.has_refresh_token = typeof tokens.refresh_token === 'string';
  // The binding (where the credential may go) is not secret, but it is encrypted with the tokens so
  // that changing it needs the master key, like changing the tokens does.
  if (binding) secret[BINDING_FIELD] = binding;
  return { meta: { ...rest, tokens: clear as ConnectionMeta['tokens'] }, secret };
}

export function joinConnection(meta: ConnectionMeta, secret: Json): ConnectionRecord {
  const { has_refresh_token: _, ...clear } = meta.tokens;
  const { [BINDING_FIELD]: binding, ...tokenSecrets } = secret;
  const tokens = redacted({ ...clear, ...tokenSecrets } as TokenSet, Object.keys(tokenSecrets));
  return binding ? { ...meta, tokens, binding: binding as Binding } : { ...meta, tokens };
}

export function splitClient(credentials: ClientCredentials): Split<{ client_id: string; has_client_secret: boolean }> {
  const { client_id, ...secret } = credentials;
  return { meta: { client_id, has_client_secret: typeof credentials.client_secret === 'string' }, secret };
}

export function joinClient(meta: Json, secret: Json): ClientCredentials {
  return redacted({ client_id: String(meta.client_id), ...secret } as ClientCredentials, Object.keys(secret));
}

/** Parse decrypted JSON. The parser's message would quote the plaintext, so it is not kept as cause. */
export function parseSecret(plaintext: Buffer, what: string, file: string): Json {
  try {
    const value: unknown = JSON.parse(plaintext.toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Json;
  } catch {
    // fall through
  }
  throw new VaultError(`record ${what} in ${file} decrypted to unreadable data`, {
    hint: 'restore the file from a backup, or delete it and log in again',
  });
}

/**
 * Keep secrets out of console.log/util.inspect (and so out of debug logs and test failure output).
 * Non-enumerable, so spreading, JSON and equality checks see the plain object.
 */
function redacted<T extends object>(value: T, secretFields: string[]): T {
  Object.defineProperty(value, inspect.custom, {
    enumerable: false,
    value(this: Json) {
      const shown: Json = { ...this };
      for (const field of secretFields) if (field in shown) shown[field] = '[redacted]';
      return shown;
    },
  });
  return value;
}
