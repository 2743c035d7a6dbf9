// A live health check of one connection: refresh if stale, call the provider's introspection
// endpoint, and on a 401 try one refresh; a 401 after that refresh means the grant is revoked.
import type { ProviderDefinition } from '../provider/types.js';
import type { ConnectionRecord, Vault } from '../vault/types.js';
import { fixHint } from '../connection/hints.js';
import { apiGet } from '../oauth/account.js';
import { afterUnauthorized, freshRecord } from './index.js';

export interface Health {
  provider: string;
  connection: string;
  kind: 'user' | 'bot';
  status: ConnectionRecord['status'] | 'unreadable';
  healthy: boolean;
  /** The command that fixes an unhealthy connection. */
  hint?: string;
  detail: string;
  scopes: string[];
  expires_at?: string;
  account_name?: string;
  checked_live: boolean;
}

export async function checkHealth(vault: Vault, provider: ProviderDefinition, connection: string): Promise<Health> {
  let record = await freshRecord(vault, provider, connection);
  const result = (detail: string, live: boolean): Health => ({
    provider: provider.name,
    connection,
    kind: record.kind ?? 'user',
    status: record.status,
    healthy: record.status === 'connected',
    hint: fixHint(provider.name, connection, record.status, record.kind ?? 'user'),
    detail,
    scopes: record.tokens.scopes,
    expires_at: record.tokens.expires_at,
    account_name: record.account?.name,
    checked_live: live,
  });
  if (record.status !== 'connected') return result(record.status_reason ?? record.status, false);
  if (record.kind === 'bot') return checkBot(vault, provider, record, result);
  const path = provider.api.introspection?.path;
  if (!path) return result('no introspection endpoint in the provider file; status is from the vault', false);

  let answer = await apiGet(provider, path, record.tokens.access_token);
  if (answer.status === 401) {
    const after = await afterUnauthorized(vault, provider, connection, record.tokens.access_token);
    const next = after.next;
    record = after.record ?? record;
    if (!next) return result(record.status_reason ?? `${provider.display_name} answered 401 and the token could not be refreshed`, true);
    answer = await apiGet(provider, path, next);
    if (answer.status === 401) {
      record =
        (await vault.update(provider.name, connection, (current) =>
          current
            ? {
                ...current,
                status: 'revoked',
                status_reason: `${provider.display_name} answered 401 to a freshly refreshed token`,
                status_changed_at: new Date().toISOString(),
              }
            : current,
        )) ?? record;
      return result(record.status_reason ?? 'revoked', true);
    }
  }
  if (answer.status !== 200)
    return {
      ...result(`${provider.display_name} answered HTTP ${answer.status} to GET ${path}`, true),
      healthy: false,
      hint: 'try again shortly; the provider may be having trouble',
    };
  const body = answer.body as { scopes?: unknown } | undefined;
  const scopes = Array.isArray(body?.scopes) ? body.scopes.map(String) : record.tokens.scopes;
  // expires_at stays the record's: the provider's `expires` is computed on its side of the clock and
  // differed by milliseconds from what `get` and `list` print for the same token.
  return { ...result('token accepted by the provider', true), scopes };
}

/**
 * A bot token never expires and cannot be refreshed: 200 from the bot's account endpoint means it
 * works, 401 means it was reset in the Developer Portal (or the bot deleted), which is `revoked`.
 */
async function checkBot(
  vault: Vault,
  provider: ProviderDefinition,
  record: ConnectionRecord,
  result: (detail: string, live: boolean) => Health,
): Promise<Health> {
  const spec = provider.bot?.account;
  if (!spec) return result('the provider file has no bot section; status is from the vault', false);
  const answer = await apiGet(provider, spec.path, record.tokens.access_token, provider.bot!.format);
  if (answer.status === 401) {
    const reason = `${provider.display_name} answered 401 to the bot token: it was reset in the Developer Portal, or the bot was deleted`;
    const stored = await vault.update(provider.name, record.connection, (current) =>
      current && current.tokens.access_token === record.tokens.access_token
        ? { ...current, status: 'revoked', status_reason: reason, status_changed_at: new Date().toISOString() }
        : current,
    );
    return {
      ...result(reason, true),
      status: stored?.status ?? 'revoked',
      healthy: false,
      hint: fixHint(provider.name, record.connection, 'revoked', 'bot'),
    };
  }
  if (answer.status !== 200)
    return { ...result(`${provider.display_name} answered HTTP ${answer.status} to GET ${spec.path}`, true), healthy: false };
  return result('bot token accepted by the provider', true);
}
