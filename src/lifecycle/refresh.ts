// Token lifecycle: proactive refresh before expiry, reactive refresh after a 401, one refresh at a
// time per connection machine-wide. Discord refresh tokens are single-use and rotate, so two
// processes refreshing with the same refresh token would lose the connection: every refresh happens
// inside vault.update(), which holds the connection's cross-process lock and re-reads the record.
import { setting } from '../config/index.js';
import type { ProviderDefinition } from '../provider/types.js';
import { UNCHANGED, type ConnectionRecord, type Vault } from '../vault/types.js';

const MAX_MARGIN_MS = 5 * 60_000;

/** The `refresh.margin` setting in ms ('auto' by default), read once per process. */
let configured: number | 'auto' | undefined;
function configuredMargin(): number | 'auto' {
  configured ??= (() => {
    const value = setting('refresh.margin');
    return value === 'auto' ? 'auto' : value * 1000;
  })();
  return configured;
}

/** For tests and long-lived callers that change the setting: the next read goes to the settings again. */
export function resetRefreshMargin(): void {
  configured = undefined;
}

/**
 * How long before expiry a token counts as stale. By default a tenth of its lifetime, at most 5
 * minutes: a 7-day Discord token is refreshed 5 minutes ahead; a 10-second test token 1 second ahead,
 * not on every call. A configured margin (setting refresh.margin) is capped at half the lifetime, so
 * a margin longer than a short-lived token never turns every request into a refresh.
 */
export function refreshMargin(
  record: Pick<ConnectionRecord, 'tokens' | 'refreshed_at' | 'created_at'>,
  margin: number | 'auto' = configuredMargin(),
): number {
  const expires = record.tokens.expires_at ? Date.parse(record.tokens.expires_at) : NaN;
  if (Number.isNaN(expires)) return 0;
  const issued = Date.parse(record.refreshed_at ?? record.created_at);
  const lifetime = Number.isNaN(issued) ? MAX_MARGIN_MS * 10 : Math.max(0, expires - issued);
  return margin === 'auto' ? Math.min(lifetime / 10, MAX_MARGIN_MS) : Math.min(margin, lifetime / 2);
}

export function isStale(record: Pick<ConnectionRecord, 'tokens' | 'refreshed_at' | 'created_at'>, now = Date.now()): boolean {
  if (!record.tokens.expires_at) return false;
  return Date.parse(record.tokens.expires_at) - refreshMargin(record) <= now;
}

export function isExpired(record: Pick<ConnectionRecord, 'tokens'>, now = Date.now()): boolean {
  return record.tokens.expires_at !== undefined && Date.parse(record.tokens.expires_at) <= now;
}

export interface RefreshOptions {
  /** Refresh only if the vault still holds this access token (it just got a 401 upstream). */
  staleToken?: string;
  /** Total time allowed for retries of transient failures. */
  budgetMs?: number;
  now?: () => number;
}

/**
 * Refresh the connection if (re-read under the lock) it still needs it. Returns the record stored
 * afterwards: refreshed, unchanged (another process already refreshed), `revoked` after
 * invalid_grant, or `expired` when the provider could not be reached and the token has run out.
 */
export async function refreshConnection(
  vault: Vault,
  provider: ProviderDefinition,
  connection: string,
  options: RefreshOptions = {},
): Promise<ConnectionRecord | undefined> {
  const now = options.now ?? Date.now;
  return vault.update(provider.name, connection, async (current) => {
    if (!current || current.status === 'revoked') return UNCHANGED;
    if (options.staleToken !== undefined) {
      // After a 401: stale only if the vault still holds the very token that got it.
      if (current.tokens.access_token !== options.staleToken) return UNCHANGED;
    } else if (!isStale(current, now())) {
      return UNCHANGED;
    }
    const refreshToken = current.tokens.refresh_token;
    const stamp = () => new Date(now()).toISOString();
    if (!refreshToken) {
      return isExpired(current, now()) && current.status !== 'expired'
        ? {
            ...current,
            status: 'expired',
            status_reason: 'access token expired and no refresh token was issued',
            status_changed_at: stamp(),
          }
        : UNCHANGED;
    }
    const client = await vault.readClient(provider.name);
    if (!client) {
      return { ...current, status: 'expired', status_reason: 'no stored client credentials to refresh with', status_changed_at: stamp() };
    }
    // Loaded only when a refresh is due: `keygate run` starts without the token-endpoint code.
    const { OAuthError, TransientProviderError, refreshTokens, toTokenSet } = await import('../oauth/tokens.js');
    const deadline = now() + (options.budgetMs ?? 10_000);
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await refreshTokens(provider, client, refreshToken);
        const tokens = toTokenSet(response, current.tokens.scopes, now(), current.tokens);
        return {
          ...current,
          tokens,
          status: 'connected',
          status_reason: undefined,
          status_changed_at: current.status === 'connected' ? current.status_changed_at : stamp(),
          refreshed_at: stamp(),
        };
      } catch (err) {
        if (err instanceof OAuthError && err.oauthError === 'invalid_grant') {
          return {
            ...current,
            status: 'revoked',
            status_reason: `refresh token refused by ${provider.display_name} (invalid_grant)`,
            status_changed_at: stamp(),
          };
        }
        const transient = err instanceof TransientProviderError || (err instanceof OAuthError && err.status >= 500);
        const delay = Math.min(250 * 2 ** attempt, 2000);
        if (transient && now() + delay < deadline) {
          await new Promise((resolve) => setTimeout(resolve, delay));
          continue;
        }
        // Not a verdict on the credential: keep the token while it is valid, else mark expired.
        if (!isExpired(current, now())) return UNCHANGED;
        const reason = `refresh failed: ${(err as Error).message}`;
        return current.status === 'expired' && current.status_reason === reason
          ? UNCHANGED
          : { ...current, status: 'expired', status_reason: reason, status_changed_at: stamp() };
      }
    }
  });
}
