// The non-secret view of a connection, shared by `get`, `list` and `status`.
import type { ConnectionMeta, Installation } from '../vault/types.js';
import { fixHint } from './hints.js';

export interface ConnectionFields {
  provider: string;
  connection: string;
  /** `user` (an OAuth2 login) or `bot` (a bot token). */
  kind: 'user' | 'bot';
  status: string;
  status_reason?: string;
  status_changed_at?: string;
  scopes: string;
  expires_at?: string;
  account_id?: string;
  account_name?: string;
  /** Bot connections: the application the bot belongs to. */
  application_id?: string;
  application_name?: string;
  /** Bot connections: the servers it was added to with `keygate install`. */
  installations?: Installation[];
  created_at: string;
  refreshed_at?: string;
  hint?: string;
}

export function describeMeta(meta: ConnectionMeta): ConnectionFields {
  const kind = meta.kind ?? 'user';
  return {
    provider: meta.provider,
    connection: meta.connection,
    kind,
    status: meta.status,
    status_reason: meta.status_reason,
    status_changed_at: meta.status_changed_at,
    scopes: meta.tokens.scopes.join(' '),
    expires_at: meta.tokens.expires_at,
    account_id: meta.account?.id,
    account_name: meta.account?.name,
    ...(kind === 'bot'
      ? { application_id: meta.application?.id, application_name: meta.application?.name, installations: meta.installations ?? [] }
      : {}),
    created_at: meta.created_at,
    refreshed_at: meta.refreshed_at,
    hint: fixHint(meta.provider, meta.connection, meta.status, kind),
  };
}

/** One line per installation: `Keygate Lab (197038439483310086), permissions 2048`. */
export function describeInstallations(installations: readonly Installation[]): string {
  return installations.length === 0
    ? 'none (add the bot with `keygate install`)'
    : installations.map((i) => `${i.guild_name} (${i.guild_id}), permissions ${i.permissions}`).join('; ');
}
