// The credential access the rest of keygate uses: a fresh record for `get --reveal`, and the
// token hooks the proxy calls. In-process single flight on top of the vault's cross-process lock:
// concurrent requests in one proxy share one refresh instead of queueing on the file lock.
import { fixHint } from '../connection/hints.js';
import { ConnectionNotFoundError, CredentialError, StoreUnavailableError } from '../errors.js';
import type { ProviderDefinition } from '../provider/types.js';
import type { ConnectionRecord, Vault } from '../vault/types.js';
import { isExpired, isStale, refreshConnection } from './refresh.js';

export { isStale, isExpired, refreshMargin, refreshConnection } from './refresh.js';

const inFlight = new Map<string, Promise<ConnectionRecord | undefined>>();

function singleFlight(key: string, work: () => Promise<ConnectionRecord | undefined>): Promise<ConnectionRecord | undefined> {
  let promise = inFlight.get(key);
  if (!promise) {
    promise = work().finally(() => inFlight.delete(key));
    inFlight.set(key, promise);
  }
  return promise;
}

/** The record, refreshed first when its access token expires soon. */
export async function freshRecord(vault: Vault, provider: ProviderDefinition, connection: string): Promise<ConnectionRecord> {
  let record = await vault.read(provider.name, connection);
  if (record && record.status !== 'revoked' && isStale(record)) {
    record = await singleFlight(`${provider.name}/${connection}`, () => refreshConnection(vault, provider, connection));
  }
  if (!record) {
    throw new ConnectionNotFoundError(`${provider.name}/${connection} is not connected`, {
      hint: fixHint(provider.name, connection, 'not_connected'),
    });
  }
  return record;
}

/**
 * After a 401 for `token`: the record as stored now (refreshed unless another process already did,
 * or revoked), and the token to replay with, or undefined to pass the 401 through.
 */
export async function afterUnauthorized(
  vault: Vault,
  provider: ProviderDefinition,
  connection: string,
  token: string,
): Promise<{ record: ConnectionRecord | undefined; next: string | undefined }> {
  const record = await singleFlight(`${provider.name}/${connection}#401`, () =>
    refreshConnection(vault, provider, connection, { staleToken: token }),
  );
  const next = record?.status === 'connected' && record.tokens.access_token !== token ? record.tokens.access_token : undefined;
  return { record, next };
}

/**
 * Token hooks for the proxy. The hot path costs no I/O: a token is served from memory until it
 * turns stale, then re-read from the vault (another process may have refreshed it) and refreshed
 * under the lock only if still needed.
 *
 * When the store cannot be reached (a shared database that is down), a refresh cannot be coordinated
 * with the other hosts, and refreshing alone would burn the single-use refresh token for all of them.
 * So the cached token is served while it is still valid, saying so once; past its expiry the request
 * fails with the reason. Nothing is marked expired or revoked for it: the store is not even written.
 */
export function createTokenAccess(
  vault: Vault,
  providers: Map<string, ProviderDefinition>,
  options: { warn?: (line: string) => void } = {},
) {
  const cache = new Map<string, ConnectionRecord>();
  const warned = new Set<string>();
  const providerOf = (name: string): ProviderDefinition => {
    const provider = providers.get(name);
    if (!provider) throw new ConnectionNotFoundError(`unknown provider ${name}`);
    return provider;
  };
  const sayOnce = (key: string, line: string) => {
    if (warned.has(key)) return;
    warned.add(key);
    options.warn?.(line);
  };
  // Discord answers 401 (not 403) to a token that lacks a scope, so a 401 right after a reactive
  // refresh says nothing about the token: remember such tokens and do not refresh again for them.
  const recentlyReplayed = new Map<string, { token: string; at: number }>();
  const REPLAY_MEMORY_MS = 30_000;
  return {
    async getToken(providerName: string, connection: string): Promise<string> {
      const key = `${providerName}/${connection}`;
      const cached = cache.get(key);
      if (cached && (cached.status !== 'connected' || !isStale(cached))) return cached.tokens.access_token;
      let record: ConnectionRecord;
      try {
        record = await freshRecord(vault, providerOf(providerName), connection);
      } catch (err) {
        if (!(err instanceof StoreUnavailableError) || !cached) throw err;
        if (cached.status === 'connected' && !isExpired(cached)) {
          sayOnce(
            `${key}:cached`,
            `keygate: ${err.message}; serving ${key}'s cached token until it expires (${cached.tokens.expires_at}), since a refresh must be coordinated through the store`,
          );
          return cached.tokens.access_token;
        }
        throw new CredentialError(`${key}'s token has expired and cannot be refreshed: ${err.message}`, {
          hint: 'a refresh must go through the shared store, so other hosts keep a working refresh token; restore the database and retry',
          cause: err,
        });
      }
      warned.delete(`${key}:cached`);
      cache.set(key, record);
      return record.tokens.access_token;
    },
    async onUnauthorized(providerName: string, connection: string, token: string): Promise<string | undefined> {
      const key = `${providerName}/${connection}`;
      const recent = recentlyReplayed.get(key);
      if (recent && recent.token === token && Date.now() - recent.at < REPLAY_MEMORY_MS) return undefined;
      let outcome: Awaited<ReturnType<typeof afterUnauthorized>>;
      try {
        outcome = await afterUnauthorized(vault, providerOf(providerName), connection, token);
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        sayOnce(
          `${key}:401`,
          `keygate: ${err.message}; passing a 401 for ${key} through without refreshing, since a refresh must be coordinated through the store`,
        );
        return undefined;
      }
      const { record, next } = outcome;
      if (record) cache.set(key, record);
      if (next) recentlyReplayed.set(key, { token: next, at: Date.now() });
      return next;
    },
  };
}
