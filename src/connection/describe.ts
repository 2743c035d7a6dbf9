// The non-secret view of a connection, shared by `get`, `list` and `status`.
import type { ConnectionMeta } from '../vault/types.js';
import { fixHint } from './hints.js';

export interface ConnectionFields {
  provider: string;
  connection: string;
  status: string;
  status_reason?: string;
  status_changed_at?: string;
  scopes: string;
  expires_at?: string;
  account_id?: string;
  account_name?: string;
  created_at: string;
  refreshed_at?: string;
  hint?: string;
}

export function describeMeta(meta: ConnectionMeta): ConnectionFields {
  return {
    provider: meta.provider,
    connection: meta.connection,
    status: meta.status,
    status_reason: meta.status_reason,
    status_changed_at: meta.status_changed_at,
    scopes: meta.tokens.scopes.join(' '),
    expires_at: meta.tokens.expires_at,
    account_id: meta.account?.id,
    account_name: meta.account?.name,
    created_at: meta.created_at,
    refreshed_at: meta.refreshed_at,
    hint: fixHint(meta.provider, meta.connection, meta.status),
  };
}
